// The store: the metadata tree at DATA/store, itself a git repository. Every change runs as one
// transaction: files are written atomically (whole folders renamed into place), then staged and
// committed together. Transactions are serialised in-process and across processes (a lock file),
// so `morphux` operator commands and the server can both write. After a crash, open() rolls back
// whatever was written but not committed: that work was never acknowledged.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from '../config/logger.js';
import { atomicWrite, atomicWriteJson, fsyncDir, readJsonFile } from './atomic-write.js';
import { AsyncMutex } from './async-mutex.js';
import { authorOf, commitPaths, initStoreRepo, storeGit } from './store-git.js';

export interface StoreOptions {
  /** DATA/store */
  root: string;
  /** where the cross-process lock lives (DATA/state) */
  stateDir: string;
  /** scratch space on the same filesystem (DATA/tmp) */
  tmpDir: string;
  log: Logger;
}

export interface Tx {
  /** absolute path of a store path */
  abs(rel: string): string;
  write(rel: string, data: string | Buffer): Promise<void>;
  writeJson(rel: string, value: unknown): Promise<void>;
  /** renames a complete folder (on the same filesystem) to rel, which must not exist */
  placeDir(fromAbs: string, rel: string): Promise<void>;
  /** replaces the folder at rel by fromAbs at once (old one removed after) */
  replaceDir(fromAbs: string, rel: string): Promise<void>;
  remove(rel: string): Promise<void>;
  /** marks a path as changed by other means (a lowdb write) */
  touched(rel: string): void;
}

export class Store {
  readonly root: string;
  readonly tmpDir: string;
  readonly stateDir: string;
  private readonly log: Logger;
  private readonly mutex = new AsyncMutex();
  private commitListeners: Array<(paths: string[]) => void> = [];

  constructor(opts: StoreOptions) {
    this.root = opts.root;
    this.stateDir = opts.stateDir;
    this.tmpDir = opts.tmpDir;
    this.log = opts.log;
  }

  abs(rel: string): string {
    const p = path.resolve(this.root, rel);
    if (p !== this.root && !p.startsWith(this.root + path.sep)) throw new RangeError(`path escapes the store: ${rel}`);
    return p;
  }

  /** Creates the repository when missing and rolls back any uncommitted, never-acknowledged change. */
  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await mkdir(this.stateDir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    await this.exclusive(async () => {
      const fresh = !existsSync(path.join(this.root, '.git'));
      await initStoreRepo(this.root);
      if (fresh) {
        await atomicWrite(path.join(this.root, 'README.md'), STORE_README);
        await commitPaths(this.root, ['README.md'], 'store: initialise', authorOf('morphux'));
        return;
      }
      await this.rollback();
      await rm(this.tmpDir, { recursive: true, force: true });
      await mkdir(this.tmpDir, { recursive: true });
    });
  }

  private async rollback(): Promise<void> {
    const lock = path.join(this.root, '.git', 'index.lock');
    if (existsSync(lock)) {
      this.log.warn({ lock }, 'removing a stale git index lock left by a crash');
      await rm(lock, { force: true });
    }
    const dirty = await storeGit(this.root, ['status', '--porcelain', '--untracked-files=all']);
    if (dirty.trim() !== '') {
      this.log.warn({ changes: dirty.split('\n').length }, 'rolling back store changes that were never committed');
      await storeGit(this.root, ['reset', '-q', '--hard', 'HEAD']);
      await storeGit(this.root, ['clean', '-q', '-fdx']);
    }
  }

  /** Runs fn alone: in this process (mutex) and across processes (lock file). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const release = await lockfile.lock(this.stateDir, {
        lockfilePath: path.join(this.stateDir, 'store.lock'),
        retries: { retries: 600, minTimeout: 20, maxTimeout: 200 },
        stale: 15_000,
        realpath: false,
      });
      try {
        return await fn();
      } finally {
        await release().catch(() => {});
      }
    });
  }

  /** One change to the store: fn writes through tx; everything it touched becomes one commit. */
  async transact<T>(message: string, actor: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const touched = new Set<string>();
      const tx: Tx = {
        abs: (rel) => this.abs(rel),
        write: async (rel, data) => { touched.add(rel); await atomicWrite(this.abs(rel), data); },
        writeJson: async (rel, value) => { touched.add(rel); await atomicWriteJson(this.abs(rel), value); },
        placeDir: async (from, rel) => {
          touched.add(rel);
          const to = this.abs(rel);
          await mkdir(path.dirname(to), { recursive: true });
          await rename(from, to); // fails if `to` exists and is not empty: immutability
          await fsyncDir(path.dirname(to));
        },
        replaceDir: async (from, rel) => {
          touched.add(rel);
          const to = this.abs(rel);
          await mkdir(path.dirname(to), { recursive: true });
          const old = path.join(this.tmpDir, `old-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
          if (existsSync(to)) await rename(to, old);
          await rename(from, to);
          await fsyncDir(path.dirname(to));
          await rm(old, { recursive: true, force: true });
        },
        remove: async (rel) => { touched.add(rel); await rm(this.abs(rel), { recursive: true, force: true }); },
        touched: (rel) => { touched.add(rel); },
      };
      let result: T;
      try {
        result = await fn(tx);
        await commitPaths(this.root, [...touched], message, authorOf(actor));
      } catch (e) {
        // leave nothing half-done behind: back to the last commit
        this.log.error({ err: e, message }, 'store change failed; rolling back');
        await this.rollback().catch((err) => this.log.error({ err }, 'store rollback failed'));
        throw e;
      }
      for (const l of this.commitListeners) l([...touched]);
      return result;
    });
  }

  /** Called after every commit (read caches, the store.git notifier). */
  onCommit(listener: (paths: string[]) => void): void {
    this.commitListeners.push(listener);
  }

  async readJson<T>(rel: string): Promise<T | null> {
    return readJsonFile<T>(this.abs(rel));
  }

  async exists(rel: string): Promise<boolean> {
    try {
      await stat(this.abs(rel));
      return true;
    } catch {
      return false;
    }
  }

  async head(): Promise<string> {
    return storeGit(this.root, ['rev-parse', 'HEAD']);
  }
}

const STORE_README = `# The Morphux store

Every submission of every package: \`port/portpkgs/<xx>/<yy>/<pkgid>/\` (the immutable snapshot,
its metadata and its build), \`port/common/<letter>/<name>/\` (the newest submitted tree of each
package) and \`index/\` (flat JSON indexes, rebuildable from the tree). Every change is a commit.
`;
