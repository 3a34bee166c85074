// Every package's flat index, held in memory for reads (queries and pages stay fast at 100k
// packages): loaded once, refreshed for the index files a store commit touched, and reloaded whole
// when the store's branch moved under another process (an operator's `morphux store reindex`),
// which a stat of the branch ref tells at the cost of one stat per read.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { listIndexedPorts, readPortIndex, type PortIndex } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store } from './store.js';

const INDEX_FILE = /^index\/ports\/[^/]+\/([^/]+)\.json$/;

export class PortCatalog {
  private ports = new Map<string, PortIndex>();
  private sorted: string[] | null = null;
  private refMtime = 0;
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

  private refFile(): string {
    return path.join(this.store.root, '.git', 'refs', 'heads', 'main');
  }

  private async reloadAll(): Promise<void> {
    const next = new Map<string, PortIndex>();
    for (const name of await listIndexedPorts(this.store)) {
      const ix = await readPortIndex(this.store, name);
      if (ix) next.set(name, ix);
    }
    this.ports = next;
    this.sorted = null;
    this.dirty.clear();
  }

  /** Brings the catalog up to date with the store's last commit. */
  private async fresh(): Promise<void> {
    if (this.loading) return this.loading;
    let mtime = 0;
    try {
      mtime = (await stat(this.refFile())).mtimeMs;
    } catch { /* packed or missing ref: rely on commit events */ }
    if (mtime === this.refMtime && this.dirty.size === 0) return;
    // the branch moved and none of it was ours: another process wrote (a reindex); read it all
    const foreign = mtime !== this.refMtime && this.ownCommits === 0;
    this.ownCommits = 0;
    this.loading = (async () => {
      if (this.refMtime <= 0 || foreign) {
        await this.reloadAll();
      } else {
        for (const name of [...this.dirty]) {
          this.dirty.delete(name);
          const ix = await readPortIndex(this.store, name);
          if (ix) this.ports.set(name, ix);
          else this.ports.delete(name);
          this.sorted = null;
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
}
