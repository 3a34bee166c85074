// The port table's slot arrays (port-table.ts): a package is a slot number, and the list orders
// and the lookups by tag, category and submitter are sorted Int32Arrays of slots, grown in place.
/** A growable array of slots. */
export class Slots {
  a = new Int32Array(4);
  n = 0;

  insertAt(i: number, v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a.copyWithin(i + 1, i, this.n);
    this.a[i] = v;
    this.n++;
  }

  removeAt(i: number): void {
    this.a.copyWithin(i, i + 1, this.n);
    this.n--;
  }

  static of(values: ArrayLike<number>): Slots {
    const s = new Slots();
    s.a = new Int32Array(Math.max(4, values.length * 1.25 | 0));
    s.a.set(values);
    s.n = values.length;
    return s;
  }
}

/** A set of slots as a sorted array: 4 bytes a member where a Set of numbers takes about 30. */
export class SlotSet extends Slots {
  private find(v: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.a[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(v: number): boolean {
    const i = this.find(v);
    return i < this.n && this.a[i] === v;
  }

  add(v: number): void {
    // a load adds slots in increasing order: appended, no search
    if (this.n === 0 || this.a[this.n - 1]! < v) return this.insertAt(this.n, v);
    const i = this.find(v);
    if (this.a[i] !== v) this.insertAt(i, v);
  }

  delete(v: number): void {
    const i = this.find(v);
    if (i < this.n && this.a[i] === v) this.removeAt(i);
  }

  get size(): number {
    return this.n;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.n; i++) yield this.a[i]!;
  }
}
