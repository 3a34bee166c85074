// The store: the metadata tree at DATA/store, itself a git repository. Every change runs as one
// transaction: each path is journaled, files are written atomically (whole folders renamed into
// place), then committed together. Transactions are serialised in-process and across processes
// (a lock file), so `morphux` operator commands and the server can both write. After a crash,
// open() puts the journaled paths back as the last commit has them: what was written but not
// committed was never acknowledged.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../lib/logger.js';
import { atomicWrite, readJsonFileSync } from '../../lib/atomic-write.js';
import { AsyncMutex } from '../../lib/async-mutex.js';
import { FastImporter } from './fast-importer.js';
import { commitPaths, readHead, repackStore } from './store-commit.js';
import { authorOf, initStoreRepo, storeGit } from './store-git.js';
import { withStoreLock } from './store-lock.js';
import { StoreJournal } from './store-journal.js';
import { rollBackToHead, sweepTmp } from './store-recovery.js';
import { describeGroup, runChanges, type Pending, type Ran, type RunDeps } from './run-changes.js';
import type { Tx, TxState } from './store-tx.js';

export type { Tx } from './store-tx.js';

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


export interface TransactOptions {
  /** may share a commit with other grouped changes made at the same moment (see transact) */
  group?: boolean;
}

/** commits between two rolls of the packs they leave */
const REPACK_EVERY = 64;
/** longest a run of group commits holds the store lock while other processes may wait for it */
const DRAIN_MS = 1000;

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
  /** folder → the highest n of its <n>.json files in the working tree, for nextNumber; emptied
   *  whenever the tree may have changed under it (a rollback, another process's commit) */
  private readonly numbered = new Map<string, number>();
  private lastHead: string | null = null;
  private readonly txState: TxState;
  private commitsSinceRepack = 0;
  private repacking: Promise<void> | null = null;
  private readonly journal: StoreJournal;
  /** the git fast-import this process commits through (kept between commits) */
  private readonly importer: FastImporter;
  /** a rollback failed: the working tree may differ from HEAD until one succeeds */
  private unclean = false;
  /** what running a group of changes needs of the store (run-changes.ts) */
  private readonly runner: RunDeps;

  constructor(opts: StoreOptions) {
    this.root = opts.root;
    this.stateDir = opts.stateDir;
    this.tmpDir = opts.tmpDir;
    this.journal = new StoreJournal(opts.root);
    this.importer = new FastImporter(opts.root);
    this.txState = { abs: (rel) => this.abs(rel), tmpDir: opts.tmpDir, numbered: this.numbered, names: (rel) => this.names(rel), journal: (rel) => this.journal.record(rel) };
    this.runner = { txState: this.txState, log: opts.log, rollback: () => this.rollback(), rollbackFor: (changes) => this.rollbackFor(changes) };
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
      }
      await this.rollback({ checkTree: true });
      await sweepTmp(this.tmpDir, opts.sweepTmp ?? false);
    });
  }

  /** Back to the last commit: the journaled paths put back (store-recovery.ts). */
  private async rollback(opts: { checkTree?: boolean } = {}): Promise<void> {
    this.numbered.clear();
    this.unclean = true;
    await rollBackToHead(this.root, this.log, opts);
    this.journal.forget();
    this.unclean = false;
  }

  /** Runs fn with no change under way, in this process or another (fsck: the tree and HEAD are
   *  compared at one point). */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn);
  }

  /** The branch's commit from git's ref files, null before the repository exists. */
  private headNow(): string | null {
    return existsSync(path.join(this.root, '.git', 'HEAD')) ? readHead(this.root).commit : null;
  }

  /**
   * Runs fn alone: in this process (mutex) and across processes (store-lock.ts). Every change of
   * the section has been committed or rolled back when fn ends, so the journal is emptied then,
   * unless a rollback failed or fn threw: then it stays for the next section (which rolls back
   * first) or open().
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(() => withStoreLock(this.stateDir, this.log, async () => {
      if (this.headNow() !== this.lastHead) this.numbered.clear(); // another process committed meanwhile
      if (this.unclean) await this.rollback();
      try {
        return await fn();
      } catch (e) {
        this.unclean = true; // whatever it wrote may not have been put back
        throw e;
      } finally {
        if (!this.unclean) this.journal.clear();
        this.lastHead = this.headNow();
      }
    }));
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
    if (!opts.group || this.groupMax <= 1) {
      return new Promise<T>((resolve, reject) => {
        this.exclusive(() => this.runAlone({ message, actor, fn, resolve: resolve as (v: unknown) => void, reject })).catch(reject);
      });
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ message, actor, fn, resolve: resolve as (v: unknown) => void, reject });
      this.kick();
    });
  }

  /** Commits the waiting grouped changes (drain), then looks again. */
  private kick(): void {
    if (this.draining || this.pending.length === 0) return;
    this.draining = true;
    void this.exclusive(() => this.drain())
      .catch((err) => this.log.error({ err }, 'store group commit failed'))
      .finally(() => {
        this.draining = false;
        this.kick();
      });
  }

  /**
   * Commits the waiting grouped changes a group at a time while more keep coming, holding the
   * lock for at most DRAIN_MS and no longer once an ungrouped change of this process waits for it.
   * Pipelined: a group whose writes are all held in memory (Tx.write, writeJson, remove) is
   * committed from that memory, so the next group's changes run while git commits it. The commit
   * under way ends before anything sends the tree back to the last commit.
   */
  private async drain(): Promise<void> {
    let inFlight: Promise<boolean> | null = null;
    /** waits for the commit under way; false when it failed (its changes have been told) */
    const settle = async (): Promise<boolean> => {
      const p = inFlight;
      inFlight = null;
      return p ? p : true;
    };
    const until = performance.now() + DRAIN_MS;
    try {
      while (this.pending.length > 0 && this.mutex.waiting === 0 && performance.now() < until) {
        let ran = await runChanges(this.pending.splice(0, this.groupMax), false, settle, this.runner);
        while (ran && !(await settle())) {
          // the group before failed to commit: back to the last commit, and this group again
          if (!(await this.rollbackFor(ran.live))) ran = null;
          else ran = await runChanges(ran.live, false, settle, this.runner);
        }
        if (!ran) continue;
        const commit = this.commitRan(ran);
        if ([...ran.touched].every((p) => ran.captured.has(p))) inFlight = commit;
        else if (!(await commit)) await this.rollbackFor([]);
      }
    } finally {
      if (!(await settle())) await this.rollbackFor([]);
    }
  }

  /** One ungrouped change, alone under the lock, told once its commit stands (commitRan). */
  private async runAlone(change: Pending): Promise<void> {
    let ran: Ran | null;
    try {
      ran = await runChanges([change], true, async () => true, this.runner); // rolls back what it wrote when it throws
    } catch (e) {
      change.reject(e);
      return;
    }
    if (ran && !(await this.commitRan(ran))) await this.rollbackFor([]);
  }

  /** Back to the last commit; false (and the given changes told) when even that fails. */
  private async rollbackFor(changes: Pending[]): Promise<boolean> {
    try {
      await this.rollback();
      return true;
    } catch (err) {
      this.log.error({ err }, 'store rollback failed');
      for (const c of changes) c.reject(err);
      return false;
    }
  }

  /**
   * Commits what the changes wrote as one commit and tells them once the branch has moved; a
   * failure is told to each change and false returned (the caller sends the tree back).
   */
  private async commitRan(ran: Ran): Promise<boolean> {
    const t1 = performance.now();
    try {
      await commitPaths(this.root, [...ran.touched], ...describeGroup(ran.live), ran.captured, this.importer);
      this.log.debug({ changes: ran.live.length, paths: ran.touched.size, run_ms: Math.round(t1 - ran.t0), commit_ms: Math.round(performance.now() - t1) }, 'store commit');
    } catch (e) {
      this.log.error({ err: e, changes: ran.live.length }, 'store commit failed; rolling back');
      for (const c of ran.live) c.reject(e);
      return false;
    }
    this.maintain();
    for (const l of this.commitListeners) l([...ran.touched]);
    for (const c of ran.live) c.resolve(ran.results.get(c));
    return true;
  }

  /** Every REPACK_EVERY commits, the packs and loose objects they left are rolled up, in the
   *  background (store-commit.ts). */
  private maintain(): void {
    if (++this.commitsSinceRepack < REPACK_EVERY || this.repacking) return;
    this.commitsSinceRepack = 0;
    this.repacking = repackStore(this.root)
      .catch((err) => this.log.warn({ err }, 'store repack failed; the next one tries again'))
      .finally(() => { this.repacking = null; });
  }

  /** Ends the store's git process once the commit under way is made (an unclosed store holds
   *  none while idle, so a command may also just exit). */
  async close(): Promise<void> {
    await this.importer.close();
    await this.repacking;
  }

  /** Called after every commit (read caches, the store.git notifier). */
  onCommit(listener: (paths: string[]) => void): void {
    this.commitListeners.push(listener);
  }

  /** A JSON file of the working tree (what a transaction reads), null when absent. Synchronous
   *  underneath, like the transaction's writes (atomic-write.ts). */
  async readJson<T>(rel: string): Promise<T | null> {
    return readJsonFileSync<T>(this.abs(rel));
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
    return this.names(rel);
  }

  private names(rel: string): string[] {
    try {
      return readdirSync(this.abs(rel));
    } catch {
      return [];
    }
  }

  async exists(rel: string): Promise<boolean> {
    return existsSync(this.abs(rel));
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
