// What reads need of every package's flat index, in memory, sized for 100k packages and 1M
// submissions: a compact summary per package with the list orders and lookups kept up to date
// per changed package (port-table.ts), and the whole index of recently read packages (an LRU;
// the rest is read on demand). Index files are read as of the store's last commit
// (committed-tree.ts), never half-way through a change.
// Loaded once, in a worker thread (port-load-worker.ts: the heap that parsing every index file
// grows goes away with it), refreshed for the index files a store commit touched, and
// reloaded whole when the store's branch moved under another process (an operator's `morphux
// store reindex`), which a stat of the branch ref tells at the cost of one stat per read.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CommittedTree } from '../tree/committed-tree.js';
import type { PortIndex, PortIndexEntry } from '../layout/port-index.js';
import type { LoadRequest, LoadResult } from './port-load-worker.js';
import { Interner, reintern, summarise, type PortSort, type PortSummary } from './port-summary.js';
import { PortTable, type PortFilter, type PortPage } from './port-table.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';

export { PORT_SORTS, type PortListItem, type PortSort } from './port-summary.js';
export type { PortFilter, PortPage } from './port-table.js';

const INDEX_FILE = /^index\/ports\/[^/]+\/([^/]+)\.json$/;
const CACHED_INDEXES = 1024;

export type NamedEntry = PortIndexEntry & { name: string };

/** Runs port-load-worker.js; from the .ts source (tests, tsx) the worker registers tsx first, as
 *  a worker does not inherit the loader. */
function loadInWorker(req: LoadRequest): Promise<LoadResult> {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(fromSource ? './port-load-worker.ts' : './port-load-worker.js', import.meta.url);
  return new Promise((resolve, reject) => {
    const w = fromSource
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(file.href)}); })`, { eval: true, workerData: req })
      : new Worker(file, { workerData: req });
    let answered = false;
    w.once('message', (m: { ok?: LoadResult; error?: string }) => {
      answered = true;
      if (m.ok) resolve(m.ok);
      else reject(new Error(`loading the port catalog: ${m.error}`));
      void w.terminate();
    });
    w.once('error', (e) => { answered = true; reject(e); });
    w.once('exit', (code) => { if (!answered) reject(new Error(`the port catalog's load worker exited with ${code}`)); });
  });
}

export class PortCatalog {
  private table = new PortTable();
  private intern = new Interner();
  /** whole indexes of recently read packages, least recently used first */
  private indexes = new Map<string, PortIndex>();
  /** each package's index file blob id as of the catalog's commit */
  private oids = new Map<string, string>();
  private refMtime = 0;
  private loaded = false;
  private loading: Promise<void> | null = null;
  private dirty = new Set<string>();
  /** commits made through this process since the last refresh */
  private ownCommits = 0;
  private tidying = false;

  constructor(private readonly store: Store, private readonly tree: CommittedTree) {
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

  private async read(name: string): Promise<PortIndex | null> {
    const oid = this.oids.get(name);
    const o = await this.tree.objects.read(oid ?? `HEAD:${storePaths.portIndex(name)}`);
    if (o?.type !== 'blob') return null;
    this.oids.set(name, o.oid);
    return JSON.parse(o.data.toString('utf8')) as PortIndex;
  }

  /** Every index file of the last commit, summarised in a worker thread (port-load-worker.ts). */
  private async reloadAll(): Promise<void> {
    const before = new Set(this.dirty); // what changes during the load is read again after it
    const loaded = await loadInWorker({ gitDir: path.join(this.store.root, '.git') });
    const intern = new Interner();
    for (const s of loaded.summaries) reintern(s, intern);
    this.indexes.clear();
    this.oids = new Map(loaded.summaries.map((s, i) => [s.name, loaded.oids[i]!]));
    this.intern = intern;
    this.table.load(loaded.summaries, loaded.texts);
    for (const name of before) this.dirty.delete(name);
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
          this.oids.delete(name);
          const ix = await this.read(name);
          this.indexes.delete(name);
          if (ix) {
            const { summary, text } = summarise(ix, this.intern);
            this.table.set(summary, text);
            this.remember(ix);
          } else {
            this.table.delete(name);
          }
        }
        this.tidySoon();
      }
      this.refMtime = mtime;
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  /** Table upkeep that would cost a query tens of milliseconds runs after the answer, not in it. */
  private tidySoon(): void {
    if (this.tidying) return;
    this.tidying = true;
    setImmediate(() => {
      this.tidying = false;
      this.table.tidy();
    }).unref();
  }

  /** A package's whole index (every submission), or null. */
  async get(name: string): Promise<PortIndex | null> {
    await this.fresh();
    if (!this.table.get(name)) return null;
    const cached = this.indexes.get(name);
    if (cached) {
      this.remember(cached);
      return cached;
    }
    const ix = await this.read(name);
    if (ix) this.remember(ix);
    return ix;
  }

  /** One page of the packages that pass every filter, in the given order (port-table.ts). */
  async page(f: PortFilter, sort: PortSort, offset: number, limit: number): Promise<PortPage> {
    await this.fresh();
    return this.table.page(f, sort, offset, limit);
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
    this.table.forEach((s) => {
      const v = key(s);
      if (!v) return;
      if (top.length === k && v <= key(top[k - 1]!)) return;
      let i = top.length;
      while (i > 0 && key(top[i - 1]!) < v) i--;
      top.splice(i, 0, s);
      if (top.length > k) top.pop();
    });
    const out: NamedEntry[] = [];
    for (const s of top) {
      const ix = await this.get(s.name);
      for (const e of ix?.submissions ?? []) {
        if (which === 'submitted' || (which === 'stable' ? e.stable : e.state === 'failed')) out.push({ ...e, name: s.name });
      }
    }
    return which === 'submitted'
      ? out.sort((a, b) => b.pkgid - a.pkgid).slice(0, k)
      : out.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : b.pkgid - a.pkgid)).slice(0, k);
  }
}
