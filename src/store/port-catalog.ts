// Every package's flat index, held in memory for reads (queries and pages stay fast at 100k
// packages): loaded once, refreshed for the index files a store commit touched, and reloaded whole
// when the store's branch moved under another process (an operator's `morphux store reindex`),
// which a stat of the branch ref tells at the cost of one stat per read.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { listIndexedPorts, readPortIndex, type PortIndex, type PortIndexEntry } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store } from './store.js';

const INDEX_FILE = /^index\/ports\/[^/]+\/([^/]+)\.json$/;

export class PortCatalog {
  private ports = new Map<string, PortIndex>();
  private sorted: string[] | null = null;
  private flat: Array<PortIndexEntry & { name: string }> | null = null;
  private refMtime = 0;
  private loaded = false;
  private loading: Promise<void> | null = null;
  private dirty = new Set<string>();
  /** commits made through this process since the last refresh */
  private ownCommits = 0;

  constructor(private readonly store: Store) {
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

  private async reloadAll(): Promise<void> {
    const next = new Map<string, PortIndex>();
    for (const name of await listIndexedPorts(this.store)) {
      const ix = await readPortIndex(this.store, name);
      if (ix) next.set(name, ix);
    }
    this.ports = next;
    this.sorted = null;
    this.flat = null;
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
          const ix = await readPortIndex(this.store, name);
          if (ix) this.ports.set(name, ix);
          else this.ports.delete(name);
          this.sorted = null;
          this.flat = null;
        }
      }
      this.refMtime = mtime;
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  async get(name: string): Promise<PortIndex | null> {
    await this.fresh();
    return this.ports.get(name) ?? null;
  }

  /** All packages, by name. */
  async all(): Promise<PortIndex[]> {
    await this.fresh();
    this.sorted ??= [...this.ports.keys()].sort();
    return this.sorted.map((n) => this.ports.get(n)!);
  }

  /** Every submission of every package, newest pkgid first (shared; do not change it). */
  async entries(): Promise<ReadonlyArray<PortIndexEntry & { name: string }>> {
    await this.fresh();
    if (!this.flat) {
      const out: Array<PortIndexEntry & { name: string }> = [];
      for (const ix of this.ports.values()) for (const e of ix.submissions) out.push({ ...e, name: ix.name });
      this.flat = out.sort((a, b) => b.pkgid - a.pkgid);
    }
    return this.flat;
  }
}
