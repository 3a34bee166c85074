// What reads need of every package's flat index, in memory, sized for 100k packages and 1M
// submissions: a summary per package (what a package list shows and filters on, built once per
// change of that package), the list orders (kept, and rebuilt only after a change), and the whole
// index of recently read packages (an LRU; the rest is read on demand). Index files are read as of
// the store's last commit (committed-tree.ts), never half-way through a change.
// Loaded once, refreshed for the index files a store commit touched, and reloaded whole when the
// store's branch moved under another process (an operator's `morphux store reindex`), which a
// stat of the branch ref tells at the cost of one stat per read.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { compareVersions } from '../domain/version.js';
import type { TreeReader } from './committed-tree.js';
import type { PortIndex, PortIndexEntry } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store } from './store.js';

const INDEX_FILE = /^index\/ports\/[^/]+\/([^/]+)\.json$/;
const CACHED_INDEXES = 2048;

/** One row of a package list (the API's /api/v1/ports items). */
export interface PortListItem {
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  latest_version: string | null;
  latest_pkgid: number | null;
  stable_pkgid: number | null;
  votes: number;
  failures: number;
  updated_at: string;
}

export const PORT_SORTS = ['name', 'updated', 'votes', 'failures'] as const;
export type PortSort = (typeof PORT_SORTS)[number];

/** A package as lists see it: its row, and what filters and "newest" lists look at. */
export interface PortSummary {
  item: PortListItem;
  /** name and description, lower case: what ?q= searches */
  text: string;
  /** the manifest's tags and every tag users put on a submission (arrays: a few each, and 100k
   *  Sets cost tens of MB more) */
  allTags: string[];
  submitters: string[];
  hasStable: boolean;
  /** newest pkgid; newest updated_at of a stable and of a failed submission ('' when none) */
  newestPkgid: number;
  stableUpdatedAt: string;
  failedUpdatedAt: string;
}

export type NamedEntry = PortIndexEntry & { name: string };

/** What a package list may be filtered on (checked by the caller); q in lower case. */
export interface PortFilter {
  q?: string;
  tag?: string;
  category?: string;
  submitter?: string;
  stable?: boolean;
}

interface Lookups {
  /** every summary in name order */
  list: ReadonlyArray<PortSummary>;
  byTag: Map<string, PortSummary[]>;
  byCategory: Map<string, PortSummary[]>;
  bySubmitter: Map<string, PortSummary[]>;
  /** every summary's text joined by NUL, and where each starts */
  text: string;
  starts: Int32Array;
}

function summarise(ix: PortIndex): PortSummary {
  const subs = ix.submissions;
  let latest: PortIndexEntry | undefined;
  let stable: PortIndexEntry | undefined;
  let votes = 0;
  let failures = 0;
  let updated = '';
  let stableUpdatedAt = '';
  let failedUpdatedAt = '';
  let newestPkgid = 0;
  const allTags = new Set(ix.tags);
  const submitters = new Set<string>();
  for (const s of subs) {
    if (!latest || compareVersions(s.version, latest.version) > 0 || (compareVersions(s.version, latest.version) === 0 && s.pkgid > latest.pkgid)) latest = s;
    if (s.stable) {
      stable ??= s;
      if (s.updated_at > stableUpdatedAt) stableUpdatedAt = s.updated_at;
    }
    if (s.state === 'failed' && s.updated_at > failedUpdatedAt) failedUpdatedAt = s.updated_at;
    votes += s.votes;
    failures += (s.state === 'failed' ? 1 : 0) + s.failed_reports;
    if (s.updated_at > updated) updated = s.updated_at;
    if (s.pkgid > newestPkgid) newestPkgid = s.pkgid;
    for (const t of s.tags) allTags.add(t);
    submitters.add(s.submitter);
  }
  return {
    item: {
      name: ix.name, description: ix.description, category: ix.category, tags: ix.tags,
      latest_version: latest?.version ?? null, latest_pkgid: latest?.pkgid ?? null, stable_pkgid: stable?.pkgid ?? null,
      votes, failures, updated_at: updated,
    },
    text: `${ix.name}\n${ix.description.toLowerCase()}`,
    allTags: [...allTags], submitters: [...submitters], hasStable: !!stable, newestPkgid, stableUpdatedAt, failedUpdatedAt,
  };
}

const byName = (a: PortSummary, b: PortSummary) => (a.item.name < b.item.name ? -1 : a.item.name > b.item.name ? 1 : 0);
const ORDERS: Record<PortSort, (a: PortSummary, b: PortSummary) => number> = {
  name: byName,
  updated: (a, b) => (a.item.updated_at < b.item.updated_at ? 1 : a.item.updated_at > b.item.updated_at ? -1 : byName(a, b)),
  votes: (a, b) => b.item.votes - a.item.votes || byName(a, b),
  failures: (a, b) => b.item.failures - a.item.failures || byName(a, b),
};

export class PortCatalog {
  private summaries = new Map<string, PortSummary>();
  private orders = new Map<PortSort, PortSummary[]>();
  /** filters' lookups and each order's positions: built on the first query after a change */
  private lookups: Lookups | null = null;
  private ranks = new Map<PortSort, Map<PortSummary, number>>();
  /** the rows of each kept order, made once per order */
  private items = new WeakMap<ReadonlyArray<PortSummary>, PortListItem[]>();
  /** whole indexes of recently read packages, least recently used first */
  private indexes = new Map<string, PortIndex>();
  private refMtime = 0;
  private loaded = false;
  private loading: Promise<void> | null = null;
  private dirty = new Set<string>();
  /** commits made through this process since the last refresh */
  private ownCommits = 0;

  constructor(private readonly store: Store, private readonly tree: TreeReader) {
    store.onCommit((paths) => {
      this.ownCommits++;
      for (const p of paths) {
        const m = INDEX_FILE.exec(p);
        if (m) this.dirty.add(m[1]);
        else if (p === storePaths.portIndexRoot || p === 'index' || p === 'index/ports') this.refMtime = -1;
      }
    });
  }

  /** When the branch last moved: its loose ref, or packed-refs once git has packed it. */
  private async refStamp(): Promise<number> {
    for (const f of [path.join('refs', 'heads', 'main'), 'packed-refs']) {
      try {
        return (await stat(path.join(this.store.root, '.git', f))).mtimeMs;
      } catch { /* not this one */ }
    }
    return -1;
  }

  private remember(ix: PortIndex): void {
    this.indexes.delete(ix.name);
    this.indexes.set(ix.name, ix);
    if (this.indexes.size > CACHED_INDEXES) this.indexes.delete(this.indexes.keys().next().value!);
  }

  private read(name: string): Promise<PortIndex | null> {
    return this.tree.readJson<PortIndex>(storePaths.portIndex(name));
  }

  private async reloadAll(): Promise<void> {
    const next = new Map<string, PortSummary>();
    this.indexes.clear();
    for (const letter of await this.tree.list(storePaths.portIndexRoot)) {
      for (const [name, ix] of await this.tree.readAllJson<PortIndex>(`${storePaths.portIndexRoot}/${letter}`)) next.set(name, summarise(ix));
    }
    this.summaries = next;
    this.orders.clear();
    this.lookups = null;
    this.ranks.clear();
    this.dirty.clear();
  }

  /** Brings the catalog up to date with the store's last commit. */
  private async fresh(): Promise<void> {
    if (this.loading) return this.loading;
    const mtime = await this.refStamp();
    if (this.loaded && mtime === this.refMtime && this.dirty.size === 0) return;
    // the branch moved and none of it was ours: another process wrote (a reindex); read it all
    const foreign = mtime !== this.refMtime && this.ownCommits === 0;
    this.ownCommits = 0;
    this.loading = (async () => {
      if (!this.loaded || this.refMtime <= 0 || foreign) {
        await this.reloadAll();
        this.loaded = true;
      } else {
        for (const name of [...this.dirty]) {
          this.dirty.delete(name);
          const ix = await this.read(name);
          this.indexes.delete(name);
          const had = this.summaries.has(name);
          if (ix) {
            this.summaries.set(name, summarise(ix));
            this.remember(ix);
          } else {
            this.summaries.delete(name);
          }
          // a new or removed package moves every order; a changed one all but the name order
          for (const sort of this.orders.keys()) if (sort !== 'name' || had !== !!ix) this.orders.delete(sort);
          this.lookups = null;
          this.ranks.clear();
          if (ix && had) this.replaceInNameOrder(name);
        }
      }
      this.refMtime = mtime;
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  /** The name order holds summary objects: put a package's new summary in its old place. */
  private replaceInNameOrder(name: string): void {
    const list = this.orders.get('name');
    if (!list) return;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = list[mid]!.item.name;
      if (n === name) {
        list[mid] = this.summaries.get(name)!;
        return;
      }
      if (n < name) lo = mid + 1;
      else hi = mid - 1;
    }
    this.orders.delete('name');
  }

  /** A package's whole index (every submission), or null. */
  async get(name: string): Promise<PortIndex | null> {
    await this.fresh();
    if (!this.summaries.has(name)) return null;
    const cached = this.indexes.get(name);
    if (cached) {
      this.remember(cached);
      return cached;
    }
    const ix = await this.read(name);
    if (ix) this.remember(ix);
    return ix;
  }

  /** Every package's row in the given order (shared: do not change it). */
  async orderedItems(sort: PortSort): Promise<ReadonlyArray<PortListItem>> {
    const list = await this.ordered(sort);
    let items = this.items.get(list);
    if (!items) {
      items = list.map((s) => s.item);
      this.items.set(list, items);
    }
    return items;
  }

  /** Every package's summary in the given order (shared: do not change it). */
  async ordered(sort: PortSort): Promise<ReadonlyArray<PortSummary>> {
    await this.fresh();
    let list = this.orders.get(sort);
    if (!list) {
      list = [...this.summaries.values()].sort(ORDERS[sort]);
      this.orders.set(sort, list);
    }
    return list;
  }

  /** What lists filter on, as lookups, so a filtered query reads its matches rather than every package. */
  private async lookupsNow(): Promise<Lookups> {
    if (this.lookups) return this.lookups;
    const list = await this.ordered('name');
    const byTag = new Map<string, PortSummary[]>();
    const byCategory = new Map<string, PortSummary[]>();
    const bySubmitter = new Map<string, PortSummary[]>();
    const add = (m: Map<string, PortSummary[]>, k: string, s: PortSummary) => {
      const l = m.get(k);
      if (l) l.push(s);
      else m.set(k, [s]);
    };
    const starts = new Int32Array(list.length);
    const texts: string[] = [];
    let at = 0;
    list.forEach((s, i) => {
      for (const t of s.allTags) add(byTag, t, s);
      if (s.item.category) add(byCategory, s.item.category, s);
      for (const u of s.submitters) add(bySubmitter, u, s);
      starts[i] = at;
      texts.push(s.text);
      at += s.text.length + 1;
    });
    const made: Lookups = { list, byTag, byCategory, bySubmitter, text: texts.join('\u0000'), starts };
    this.lookups = made;
    return made;
  }

  private async rank(sort: PortSort): Promise<Map<PortSummary, number>> {
    let r = this.ranks.get(sort);
    if (!r) {
      r = new Map((await this.ordered(sort)).map((s, i) => [s, i]));
      this.ranks.set(sort, r);
    }
    return r;
  }

  /**
   * The packages that pass every filter, in the given order. Without a filter it is the kept order
   * itself; a tag, category or submitter starts from that lookup's matches, a text from one search
   * of every name and description joined (in the name order); the matches are then put in order.
   */
  async select(f: PortFilter, sort: PortSort): Promise<ReadonlyArray<PortSummary>> {
    await this.fresh();
    if (!f.q && !f.tag && !f.category && !f.submitter && f.stable === undefined) return this.ordered(sort);
    const lk = await this.lookupsNow();
    let from: ReadonlyArray<PortSummary> = lk.list;
    for (const [m, key] of [[lk.byTag, f.tag], [lk.byCategory, f.category], [lk.bySubmitter, f.submitter]] as const) {
      if (key === undefined) continue;
      const l = m.get(key) ?? [];
      if (l.length < from.length) from = l;
    }
    if (f.q && from === lk.list) {
      const found: PortSummary[] = [];
      let last = -1;
      for (let p = lk.text.indexOf(f.q); p >= 0; p = lk.text.indexOf(f.q, p + 1)) {
        let lo = 0;
        let hi = lk.starts.length - 1;
        while (lo < hi) { // the last start at or before p
          const mid = (lo + hi + 1) >> 1;
          if (lk.starts[mid]! <= p) lo = mid;
          else hi = mid - 1;
        }
        if (lo !== last) found.push(lk.list[lo]!);
        last = lo;
      }
      from = found;
    }
    const out = from.filter((s) => (!f.q || s.text.includes(f.q)) && (!f.tag || s.allTags.includes(f.tag))
      && (!f.category || s.item.category === f.category) && (!f.submitter || s.submitters.includes(f.submitter))
      && (f.stable === undefined || s.hasStable === f.stable));
    if (sort === 'name') return out;
    if (out.length > 2048) { // many matches: one pass over the kept order beats sorting them
      const keep = new Set(out);
      return (await this.ordered(sort)).filter((x) => keep.has(x));
    }
    const r = await this.rank(sort);
    return out.sort((a, b) => r.get(a)! - r.get(b)!);
  }

  /**
   * The k newest submissions of every package that match `which`: by pkgid (recent), or by
   * updated_at among the stable or the failed ones. Only the k packages that lead on that key
   * are read, since the k newest entries can come from no others.
   */
  async newest(k: number, which: 'submitted' | 'stable' | 'failed'): Promise<NamedEntry[]> {
    await this.fresh();
    const key = (s: PortSummary): number | string => (which === 'submitted' ? s.newestPkgid : which === 'stable' ? s.stableUpdatedAt : s.failedUpdatedAt);
    const top: PortSummary[] = [];
    for (const s of this.summaries.values()) {
      const v = key(s);
      if (!v) continue;
      if (top.length === k && v <= key(top[k - 1]!)) continue;
      let i = top.length;
      while (i > 0 && key(top[i - 1]!) < v) i--;
      top.splice(i, 0, s);
      if (top.length > k) top.pop();
    }
    const out: NamedEntry[] = [];
    for (const s of top) {
      const ix = await this.get(s.item.name);
      for (const e of ix?.submissions ?? []) {
        if (which === 'submitted' || (which === 'stable' ? e.stable : e.state === 'failed')) out.push({ ...e, name: s.item.name });
      }
    }
    return which === 'submitted'
      ? out.sort((a, b) => b.pkgid - a.pkgid).slice(0, k)
      : out.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : b.pkgid - a.pkgid)).slice(0, k);
  }
}
