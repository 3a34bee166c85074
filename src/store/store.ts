// The store: the metadata tree at DATA/store, itself a git repository. Every change runs as one
// transaction: files are written atomically (whole folders renamed into place), then staged and
// committed together. Transactions are serialised in-process and across processes (a lock file),
// so `morphux` operator commands and the server can both write. After a crash, open() rolls back
// whatever was written but not committed: that work was never acknowledged.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../config/logger.js';
import { atomicWrite, atomicWriteJson, readJsonFile } from './atomic-write.js';
import { AsyncMutex } from './async-mutex.js';
import { withStoreLock } from './store-lock.js';
import { authorOf, commitPaths, initStoreRepo, storeGit } from './store-git.js';

export interface StoreOptions {
  /** DATA/store */
  root: string;
  /** where the cross-process lock lives (DATA/state) */
  stateDir: string;
  /** scratch space on the same filesystem (DATA/tmp) */
  tmpDir: string;
  log: Logger;
  /** most changes one group commit takes (1: a commit per change) */
  groupMax?: number;
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
  /**
   * State shared by the changes that go into one commit under `key`: made by `init` for the first
   * of them, and `finish` runs once after the last, before the commit (a package's index written
   * once for a group of meta changes instead of once for each).
   */
  shared<S>(key: string, init: () => S, finish: (tx: Tx, state: S) => Promise<void>): S;
}

interface Finisher {
  state: unknown;
  finish: (tx: Tx, state: unknown) => Promise<void>;
}

export interface TransactOptions {
  /** may share a commit with other grouped changes made at the same moment (see transact) */
  group?: boolean;
}

interface Pending {
  message: string;
  actor: string;
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The commit message and author of a group: the change's own when alone, else each listed. */
function describeGroup(group: Pending[]): [string, string] {
  if (group.length === 1) return [group[0].message, authorOf(group[0].actor)];
  const actors = new Set(group.map((c) => c.actor));
  const subject = `${group.length} changes: ${group[0].message}, …`;
  const body = group.map((c) => `- ${c.message} (${c.actor})`).join('\n');
  return [`${subject}\n\n${body}\n`, authorOf(actors.size === 1 ? group[0].actor : 'morphux')];
}

export class Store {
  readonly root: string;
  readonly tmpDir: string;
  readonly stateDir: string;
  private readonly log: Logger;
  private readonly mutex = new AsyncMutex();
  private commitListeners: Array<(paths: string[]) => void> = [];
  private readonly groupMax: number;
  private pending: Pending[] = [];
  private draining = false;

  constructor(opts: StoreOptions) {
    this.root = opts.root;
    this.stateDir = opts.stateDir;
    this.tmpDir = opts.tmpDir;
    this.log = opts.log;
    this.groupMax = opts.groupMax ?? 256;
  }

  abs(rel: string): string {
    const p = path.resolve(this.root, rel);
    if (p !== this.root && !p.startsWith(this.root + path.sep)) throw new RangeError(`path escapes the store: ${rel}`);
    return p;
  }

  /**
   * Creates the repository when missing and rolls back any uncommitted, never-acknowledged change.
   * DATA/tmp is emptied only with `sweepTmp` (the server, at start); other openers (operator commands
   * while the server runs) leave what may be a running submission's or build's work alone and only
   * remove what is over a day old.
   */
  async open(opts: { sweepTmp?: boolean } = {}): Promise<void> {
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
      const dayAgo = Date.now() - 24 * 3600_000;
      for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
        const p = path.join(this.tmpDir, name);
        const old = (await stat(p).catch(() => null))?.mtimeMs ?? Infinity;
        if (opts.sweepTmp || old < dayAgo) await rm(p, { recursive: true, force: true });
      }
    });
  }

  private async rollback(): Promise<void> {
    // git's own lock files, left by a git process killed mid-change (git add, write-tree, update-ref);
    // we hold the store lock and none of our git processes runs, so any of them is stale
    for (const rel of ['index.lock', 'HEAD.lock', 'packed-refs.lock', 'refs/heads/main.lock']) {
      const lock = path.join(this.root, '.git', rel);
      if (existsSync(lock)) {
        this.log.warn({ lock }, 'removing a stale git lock left by a crash');
        await rm(lock, { force: true });
      }
    }
    const dirty = await storeGit(this.root, ['status', '--porcelain', '--untracked-files=all']);
    if (dirty.trim() !== '') {
      this.log.warn({ changes: dirty.split('\n').length }, 'rolling back store changes that were never committed');
      await storeGit(this.root, ['reset', '-q', '--hard', 'HEAD']);
      await storeGit(this.root, ['clean', '-q', '-fdx']);
    }
  }

  /** Runs fn alone: in this process (mutex) and across processes (store-lock.ts). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(() => withStoreLock(this.stateDir, this.log, fn));
  }

  /**
   * One change to the store: fn writes through tx and everything it touched is committed before
   * the returned promise resolves. With `group`, changes that arrive while another commit is
   * being made are committed together (group commit: one git commit, one round of fsyncs, for
   * many changes); such an fn must write only through tx and be safe to run again, because when
   * one change of a group fails after writing, the tree goes back to the last commit and the
   * others are run again.
   */
  transact<T>(message: string, actor: string, fn: (tx: Tx) => Promise<T>, opts: TransactOptions = {}): Promise<T> {
    if (!opts.group || this.groupMax <= 1) return this.exclusive(() => this.runGroup([{ message, actor, fn, resolve: () => {}, reject: () => {} }], true)) as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ message, actor, fn, resolve: resolve as (v: unknown) => void, reject });
      this.kick();
    });
  }

  /** Commits the waiting grouped changes, a group at a time, each in its turn for the lock. */
  private kick(): void {
    if (this.draining || this.pending.length === 0) return;
    this.draining = true;
    void this.exclusive(() => this.runGroup(this.pending.splice(0, this.groupMax), false))
      .catch(() => { /* each change was told */ })
      .finally(() => {
        this.draining = false;
        this.kick();
      });
  }

  /**
   * Runs the changes in order and commits what they wrote as one commit. Alone (single), the
   * change's own error is thrown; grouped, each change's promise settles on its own.
   */
  private async runGroup(group: Pending[], single: boolean): Promise<unknown> {
    let live = group;
    const t0 = performance.now();
    for (;;) {
      const results = new Map<Pending, unknown>();
      const touched = new Set<string>();
      const finishers = new Map<string, Finisher>();
      let rerun = false;
      for (const change of live) {
        const mine = new Set<string>();
        let shares = false;
        try {
          results.set(change, await change.fn(this.txOver(mine, finishers, () => { shares = true; })));
          for (const p of mine) touched.add(p);
        } catch (e) {
          this.log.error({ err: e, message: change.message }, 'store change failed; nothing of it is kept');
          live = live.filter((c) => c !== change);
          if (single) {
            await this.rollback().catch((err) => this.log.error({ err }, 'store rollback failed'));
            throw e;
          }
          change.reject(e);
          if (mine.size === 0 && !shares) continue; // refused before it wrote anything: the others stand
          // it wrote part of itself: back to the last commit, and the others again without it
          try {
            await this.rollback();
          } catch (err) {
            this.log.error({ err }, 'store rollback failed');
            for (const c of live) c.reject(err);
            return undefined;
          }
          rerun = true;
          break;
        }
      }
      if (rerun) continue;
      try {
        const tx = this.txOver(touched, new Map(), () => { throw new Error('shared() in a finisher'); });
        for (const f of finishers.values()) await f.finish(tx, f.state);
        const t1 = performance.now();
        await commitPaths(this.root, [...touched], ...describeGroup(live));
        this.log.debug({ changes: live.length, paths: touched.size, run_ms: Math.round(t1 - t0), commit_ms: Math.round(performance.now() - t1) }, 'store commit');
      } catch (e) {
        this.log.error({ err: e, changes: live.length }, 'store commit failed; rolling back');
        await this.rollback().catch((err) => this.log.error({ err }, 'store rollback failed'));
        if (single) throw e;
        for (const c of live) c.reject(e);
        return undefined;
      }
      for (const l of this.commitListeners) l([...touched]);
      for (const c of live) c.resolve(results.get(c));
      return single ? results.get(live[0]) : undefined;
    }
  }

  /** The write handle of one change; every path it writes goes into `touched`. */
  private txOver(touched: Set<string>, finishers: Map<string, Finisher>, onShare: () => void): Tx {
    const quick = { durable: false }; // the commit is the durability point (atomic-write.ts)
    return {
      abs: (rel) => this.abs(rel),
      write: async (rel, data) => { touched.add(rel); await atomicWrite(this.abs(rel), data, quick); },
      writeJson: async (rel, value) => { touched.add(rel); await atomicWriteJson(this.abs(rel), value, quick); },
      placeDir: async (from, rel) => {
        touched.add(rel);
        const to = this.abs(rel);
        await mkdir(path.dirname(to), { recursive: true });
        await rename(from, to); // fails if `to` exists and is not empty: immutability
      },
      replaceDir: async (from, rel) => {
        touched.add(rel);
        const to = this.abs(rel);
        await mkdir(path.dirname(to), { recursive: true });
        const old = path.join(this.tmpDir, `old-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
        if (existsSync(to)) await rename(to, old);
        await rename(from, to);
        await rm(old, { recursive: true, force: true });
      },
      remove: async (rel) => { touched.add(rel); await rm(this.abs(rel), { recursive: true, force: true }); },
      touched: (rel) => { touched.add(rel); },
      shared: <S>(key: string, init: () => S, finish: (tx: Tx, state: S) => Promise<void>): S => {
        onShare();
        let f = finishers.get(key);
        if (!f) {
          f = { state: init(), finish: finish as Finisher['finish'] };
          finishers.set(key, f);
        }
        return f.state as S;
      },
    };
  }

  /** Called after every commit (read caches, the store.git notifier). */
  onCommit(listener: (paths: string[]) => void): void {
    this.commitListeners.push(listener);
  }

  /** A JSON file of the working tree (what a transaction reads), null when absent. */
  async readJson<T>(rel: string): Promise<T | null> {
    return readJsonFile<T>(this.abs(rel));
  }

  /** Every <name>.json of a folder of the working tree, parsed, by name. */
  async readAllJson<T>(rel: string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const f of await this.list(rel)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const doc = await this.readJson<T>(`${rel}/${f}`);
      if (doc !== null) out.set(f.slice(0, -5), doc);
    }
    return out;
  }

  /** Names in a folder of the working tree, [] when absent. */
  async list(rel: string): Promise<string[]> {
    try {
      return await readdir(this.abs(rel));
    } catch {
      return [];
    }
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
