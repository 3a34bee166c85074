// The catalog's in-memory table of package summaries, built for 100,000 packages: each package
// has a slot; the four list orders are kept sorted as arrays of slots (a changed package moves
// in each order whose key changed: two binary searches and a copy within one typed array), the
// lookups by tag, category and submitter and the search text are updated per changed package,
// so no query rebuilds anything. page() answers a filtered, sorted page without putting every
// match in order: it walks the kept order over a bitmap of the matches, or, for few matches,
// sorts their positions in that order.
import { PortSearch } from './port-search.js';
import { Slots, SlotSet } from './slot-arrays.js';
import type { PortSort, PortSummary } from './port-summary.js';
import type { Reproducible } from '../../domain/rebuild.js';

/** What a package list may be filtered on (checked by the caller); q in lower case. */
export interface PortFilter {
  q?: string;
  tag?: string;
  category?: string;
  submitter?: string;
  stable?: boolean;
  /** the latest submission's rebuild check verdict */
  reproducible?: Reproducible;
}

/** One page of a list: its rows (JSON of PortListItem) and how many packages match in all. */
export interface PortPage {
  total: number;
  rows: string[];
}

type Cmp = (a: PortSummary, b: PortSummary) => number;
const byName: Cmp = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const ORDERS: Record<PortSort, { cmp: Cmp; same: (a: PortSummary, b: PortSummary) => boolean }> = {
  name: { cmp: byName, same: () => true },
  updated: { cmp: (a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : byName(a, b)), same: (a, b) => a.updatedAt === b.updatedAt },
  votes: { cmp: (a, b) => b.votes - a.votes || byName(a, b), same: (a, b) => a.votes === b.votes },
  failures: { cmp: (a, b) => b.failures - a.failures || byName(a, b), same: (a, b) => a.failures === b.failures },
};
const SORTS = Object.keys(ORDERS) as PortSort[];

const EMPTY = new SlotSet();

type Lookup = Map<string, SlotSet>;

export class PortTable {
  private sums: Array<PortSummary | undefined> = [];
  private free: number[] = [];
  private orders = {} as Record<PortSort, Slots>;
  /** slot → position in each order, made when a query needs it after the order changed */
  private ranks = new Map<PortSort, Int32Array>();
  private byTag: Lookup = new Map();
  private byCategory: Lookup = new Map();
  private bySubmitter: Lookup = new Map();
  private search = new PortSearch();
  /** a bitmap of matches, by slot, all zero between queries */
  private marks = new Uint8Array(0);

  constructor() {
    this.load([], []);
  }

  get size(): number {
    return this.orders.name.n;
  }

  get(name: string): PortSummary | undefined {
    const slot = this.slotOf(name);
    return slot === undefined ? undefined : this.sums[slot];
  }

  /** A package's slot, found in the name order (a Map of 100,000 names would cost megabytes). */
  private slotOf(name: string): number | undefined {
    const o = this.orders.name;
    let lo = 0;
    let hi = o.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = this.sums[o.a[mid]!]!.name;
      if (n === name) return o.a[mid];
      if (n < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Calls fn with every summary, in no particular order. */
  forEach(fn: (s: PortSummary) => void): void {
    for (const s of this.sums) if (s) fn(s);
  }

  /** Replaces the whole table (a first load, or a reload). */
  load(summaries: ReadonlyArray<PortSummary>, texts: ReadonlyArray<string>): void {
    this.sums = [];
    this.free = [];
    this.byTag = new Map();
    this.byCategory = new Map();
    this.bySubmitter = new Map();
    this.ranks.clear();
    const kept: string[] = [];
    const seen = new Set<string>(); // a name twice (a damaged index) would break the orders' uniqueness
    summaries.forEach((summary, i) => {
      if (seen.has(summary.name)) return;
      seen.add(summary.name);
      const slot = this.sums.length;
      this.sums.push(summary);
      kept.push(texts[i]!);
      this.index(slot, summary, 1);
    });
    this.search.build(kept);
    const all = Int32Array.from(this.sums.keys());
    for (const sort of SORTS) {
      const cmp = ORDERS[sort].cmp;
      this.orders[sort] = Slots.of(all.slice().sort((x, y) => cmp(this.sums[x]!, this.sums[y]!)));
    }
    this.marks = new Uint8Array(this.sums.length);
  }

  /** Adds a package or replaces its summary. */
  set(summary: PortSummary, text: string): void {
    let slot = this.slotOf(summary.name);
    const old = slot === undefined ? undefined : this.sums[slot];
    if (slot === undefined) {
      slot = this.free.pop() ?? this.sums.length;
      if (slot === this.sums.length) this.sums.push(undefined);
      if (this.marks.length < this.sums.length) {
        const m = new Uint8Array(this.sums.length * 2);
        m.set(this.marks);
        this.marks = m;
      }
    }
    // out of every order whose key changed (found by the old keys), then in by the new ones
    const moved = SORTS.filter((sort) => !old || !ORDERS[sort].same(old, summary));
    if (old) for (const sort of moved) this.remove(sort, old, slot);
    this.sums[slot] = summary;
    for (const sort of moved) {
      this.orders[sort].insertAt(this.position(sort, summary), slot);
      this.ranks.delete(sort);
    }
    if (old) this.index(slot, old, -1);
    this.index(slot, summary, 1);
    this.search.set(slot, text);
  }

  delete(name: string): void {
    const slot = this.slotOf(name);
    if (slot === undefined) return;
    const old = this.sums[slot]!;
    for (const sort of SORTS) {
      this.remove(sort, old, slot);
      this.ranks.delete(sort);
    }
    this.index(slot, old, -1);
    this.search.delete(slot);
    this.sums[slot] = undefined;
    this.free.push(slot);
  }

  private remove(sort: PortSort, old: PortSummary, slot: number): void {
    const at = this.position(sort, old, slot);
    if (at >= 0) this.orders[sort].removeAt(at);
  }

  /** Where s is (slot given: it must be there) or goes in an order (ties are broken by name: unique). */
  private position(sort: PortSort, s: PortSummary, slot?: number): number {
    const o = this.orders[sort];
    const cmp = ORDERS[sort].cmp;
    let lo = 0;
    let hi = o.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(this.sums[o.a[mid]!]!, s) < 0) lo = mid + 1;
      else hi = mid;
    }
    // not where its keys say (cannot happen while the comparisons are a total order): look it up
    if (slot !== undefined && o.a[lo] !== slot) return o.a.subarray(0, o.n).indexOf(slot);
    return lo;
  }

  private index(slot: number, s: PortSummary, d: 1 | -1): void {
    const put = (m: Lookup, k: string) => {
      let set = m.get(k);
      if (d > 0) {
        if (!set) m.set(k, (set = new SlotSet()));
        set.add(slot);
      } else if (set) {
        set.delete(slot);
        if (set.size === 0) m.delete(k);
      }
    };
    for (const t of s.tags) put(this.byTag, t);
    if (s.category !== null) put(this.byCategory, s.category);
    for (const u of s.submitters) put(this.bySubmitter, u);
  }

  /** Joins the search text again when many texts changed; meant to run off a query's path. */
  tidy(): void {
    if (this.search.stale) this.search.rejoin(this.sums.length);
  }

  private rank(sort: PortSort): Int32Array {
    let r = this.ranks.get(sort);
    if (!r) {
      const o = this.orders[sort];
      r = new Int32Array(this.sums.length);
      for (let i = 0; i < o.n; i++) r[o.a[i]!] = i;
      this.ranks.set(sort, r);
    }
    return r;
  }

  private rows(sort: PortSort, from: number, to: number): string[] {
    const o = this.orders[sort];
    const out: string[] = [];
    for (let i = from; i < Math.min(to, o.n); i++) out.push(this.sums[o.a[i]!]!.row);
    return out;
  }

  /** The rows offset … offset+limit-1 of the packages that pass every filter, in the given order. */
  page(f: PortFilter, sort: PortSort, offset: number, limit: number): PortPage {
    const o = this.orders[sort];
    const end = offset + limit;
    const sets: SlotSet[] = [];
    for (const [m, key] of [[this.byTag, f.tag], [this.byCategory, f.category], [this.bySubmitter, f.submitter]] as const) {
      if (key !== undefined) sets.push(m.get(key) ?? EMPTY);
    }
    const plain = f.stable === undefined && f.reproducible === undefined;
    if (sets.length === 0 && !f.q && plain) return { total: o.n, rows: this.rows(sort, offset, end) };
    sets.sort((a, b) => a.size - b.size);
    if (sets.length === 1 && !f.q && plain) {
      // one lookup: its members are the matches; many are taken walking the order, few sorted
      const set = sets[0]!;
      if (set.size * 8 >= o.n) return { total: set.size, rows: this.walk(sort, end, offset, (slot) => set.has(slot)) };
      return { total: set.size, rows: this.ranked(sort, set.a.subarray(0, set.n), offset, end) };
    }
    const q = f.q;
    const pass = (slot: number) => {
      const s = this.sums[slot];
      if (!s || (f.stable !== undefined && s.hasStable !== f.stable)) return false;
      if (f.reproducible !== undefined && s.reproducible !== f.reproducible) return false;
      for (let i = 1; i < sets.length; i++) if (!sets[i]!.has(slot)) return false;
      return !q || sets.length === 0 || this.search.textOf(slot).includes(q);
    };
    const matches: number[] = [];
    const take = (slot: number) => { if (pass(slot)) matches.push(slot); };
    if (sets.length) {
      const first = sets[0]!;
      for (let i = 0; i < first.n; i++) take(first.a[i]!);
    } else if (q) {
      this.search.find(q, take);
    } else {
      for (let slot = 0; slot < this.sums.length; slot++) take(slot);
    }
    if (offset >= matches.length) return { total: matches.length, rows: [] };
    if (matches.length * 16 >= o.n) {
      const marks = this.marks;
      for (const slot of matches) marks[slot] = 1;
      try {
        return { total: matches.length, rows: this.walk(sort, end, offset, (slot) => marks[slot] === 1) };
      } finally {
        for (const slot of matches) marks[slot] = 0;
      }
    }
    return { total: matches.length, rows: this.ranked(sort, matches, offset, end) };
  }

  /** Rows offset … end-1 of the given slots along an order: their positions in it, sorted. */
  private ranked(sort: PortSort, slots: ArrayLike<number>, offset: number, end: number): string[] {
    const r = this.rank(sort);
    const o = this.orders[sort];
    const at = new Int32Array(slots.length);
    for (let i = 0; i < slots.length; i++) at[i] = r[slots[i]!]!;
    at.sort();
    const rows: string[] = [];
    for (let i = offset; i < Math.min(end, at.length); i++) rows.push(this.sums[o.a[at[i]!]!]!.row);
    return rows;
  }

  /** Rows of the matches number offset … end-1 along an order. */
  private walk(sort: PortSort, end: number, offset: number, match: (slot: number) => boolean): string[] {
    const o = this.orders[sort];
    const rows: string[] = [];
    let seen = 0;
    for (let i = 0; i < o.n && seen < end; i++) {
      const slot = o.a[i]!;
      if (!match(slot)) continue;
      if (seen >= offset) rows.push(this.sums[slot]!.row);
      seen++;
    }
    return rows;
  }
}
