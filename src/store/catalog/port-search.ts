// The text ?q= searches, for every package slot of the catalog's table: one string of all texts
// joined by NUL (one indexOf pass beats a test per package), and the texts changed since it was
// joined on the side, checked one by one. A change never rebuilds the joined text on a query's
// path: it is joined again only once many texts changed (rejoin(), run by the table off the query).
// Each slot also has a 128-bit signature of its text's trigrams: a q of 4 characters or more is
// looked for only in the texts whose signature holds all of q's (a scan of 1.6 MB of integers
// instead of indexOf over every text, which at 100,000 packages costs milliseconds when q's start
// is common, as in "number 5…").
const REJOIN_AFTER = 4096;
const SIG_WORDS = 4; // 128 bits
const SIG_MIN_Q = 4;

/** Sets the bit of each trigram of t in sig[at … at+3]. */
function sign(t: string, sig: Uint32Array, at: number): void {
  for (let i = 0; i + 2 < t.length; i++) {
    const h = Math.imul((t.charCodeAt(i) << 16) ^ (t.charCodeAt(i + 1) << 8) ^ t.charCodeAt(i + 2), 0x9e3779b1) >>> 25;
    sig[at + (h >>> 5)]! |= 1 << (h & 31);
  }
}

export class PortSearch {
  private joined = '';
  /** start of each segment in `joined`; one more entry at the end */
  private starts = new Int32Array(1);
  /** the slot each segment belongs to */
  private segSlot = new Int32Array(0);
  /** slot → its segment, -1 when it has none */
  private segOf = new Int32Array(0);
  /** slots whose text changed since the join: their text now ('' when the slot is empty) */
  private changed = new Map<number, string>();
  /** SIG_WORDS words per slot */
  private sigs = new Uint32Array(0);

  private signSlot(slot: number, text: string): void {
    if ((slot + 1) * SIG_WORDS > this.sigs.length) {
      const grown = new Uint32Array(Math.max(1024, (slot + 1) * 2) * SIG_WORDS);
      grown.set(this.sigs);
      this.sigs = grown;
    }
    this.sigs.fill(0, slot * SIG_WORDS, (slot + 1) * SIG_WORDS);
    sign(text, this.sigs, slot * SIG_WORDS);
  }

  /** Joins texts by slot (undefined: an empty slot). */
  build(texts: ReadonlyArray<string | undefined>): void {
    const parts: string[] = [];
    const starts: number[] = [];
    const segSlot: number[] = [];
    const segOf = new Int32Array(texts.length).fill(-1);
    let at = 0;
    texts.forEach((t, slot) => {
      if (t === undefined) return;
      segOf[slot] = segSlot.length;
      segSlot.push(slot);
      starts.push(at);
      parts.push(t);
      at += t.length + 1;
    });
    starts.push(at);
    this.joined = parts.join('\u0000');
    this.starts = Int32Array.from(starts);
    this.segSlot = Int32Array.from(segSlot);
    this.segOf = segOf;
    this.changed.clear();
    this.sigs = new Uint32Array(texts.length * SIG_WORDS);
    texts.forEach((t, slot) => { if (t !== undefined) sign(t, this.sigs, slot * SIG_WORDS); });
  }

  private segmentText(seg: number): string {
    return this.joined.substring(this.starts[seg]!, this.starts[seg + 1]! - 1);
  }

  textOf(slot: number): string {
    const c = this.changed.get(slot);
    if (c !== undefined) return c;
    const seg = slot < this.segOf.length ? this.segOf[slot]! : -1;
    return seg < 0 ? '' : this.segmentText(seg);
  }

  set(slot: number, text: string): void {
    if (this.textOf(slot) === text) return;
    this.changed.set(slot, text);
    this.signSlot(slot, text);
  }

  delete(slot: number): void {
    this.set(slot, '');
  }

  /** Whether enough texts changed that joining them again pays. */
  get stale(): boolean {
    return this.changed.size > REJOIN_AFTER;
  }

  /** Joins the current texts again (slots: how many there are). */
  rejoin(slots: number): void {
    const texts: Array<string | undefined> = [];
    for (let s = 0; s < slots; s++) {
      const t = this.textOf(s);
      texts.push(t === '' ? undefined : t);
    }
    this.build(texts);
  }

  /** Calls found(slot) once for each slot whose text contains q (q not empty). */
  find(q: string, found: (slot: number) => void): void {
    if (q.length >= SIG_MIN_Q) return this.findSigned(q, found);
    const { joined, starts, segSlot, changed } = this;
    for (let p = joined.indexOf(q); p >= 0;) {
      let lo = 0;
      let hi = segSlot.length - 1;
      while (lo < hi) { // the last segment starting at or before p
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= p) lo = mid;
        else hi = mid - 1;
      }
      const slot = segSlot[lo]!;
      const whole = p + q.length < starts[lo + 1]!; // not across the separator into the next text
      if (whole && !changed.has(slot)) {
        found(slot);
        p = joined.indexOf(q, starts[lo + 1]!);
      } else {
        p = joined.indexOf(q, p + 1);
      }
    }
    for (const [slot, t] of changed) if (t.includes(q)) found(slot);
  }

  private findSigned(q: string, found: (slot: number) => void): void {
    const want = new Uint32Array(SIG_WORDS);
    sign(q, want, 0);
    const [w0, w1, w2, w3] = want as unknown as [number, number, number, number];
    const sigs = this.sigs;
    for (let slot = 0, at = 0; at < sigs.length; slot++, at += SIG_WORDS) {
      // a bit of q's missing from the slot's (int32 arithmetic: no compare against the unsigned words)
      if ((w0 & ~sigs[at]!) | (w1 & ~sigs[at + 1]!) | (w2 & ~sigs[at + 2]!) | (w3 & ~sigs[at + 3]!)) continue;
      if (this.textOf(slot).includes(q)) found(slot);
    }
  }
}
