// One long-running `git fast-import` that takes a store's commits one after another, each made
// durable by a `checkpoint` (its pack and the branch fsynced) before it is acknowledged. Starting
// a process costs the server its fork (Node copies its whole address space: 8–20 ms of a blocked
// event loop here, every commit) and git its start-up; under a steady stream of group commits the
// process stays, and it ends after IDLE_MS without a commit or after MAX_COMMITS (fast-import
// keeps every object it wrote in memory). Idle, it holds no reference on the event loop: a
// command that opened the store exits without closing it.
//
// Crash safety is fast-import's own with `--done`: a stream cut short (this process killed) ends
// it without moving the branch, so only a commit whose checkpoint was sent can land, and then it
// equals what the journal put back (store-recovery.ts). The branch is given explicitly (`from`,
// read from the ref under the store lock) for every commit, so a commit made meanwhile by another
// process is the parent; when this process ends, fast-import moves the branch only forward, never
// back over another process's commit.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { MorphuxError } from '../../domain/errors.js';
import { spawnGit, type GitProcess } from '../../lib/git.js';
import { COMMITTER } from './store-git.js';

/** an idle importer ends after this long without a commit: longer than a build, so the record
 *  commit that ends one reuses the process its claim commit started (a respawn cost ~15–25 ms on
 *  the push -> good path); its packs stay kept from repack until it ends */
const IDLE_MS = 30_000;
/** commits before the process is replaced (its memory holds each object it wrote) */
const MAX_COMMITS = 1000;

export type Send = (chunk: string | Buffer) => Promise<void>;

interface Running {
  proc: GitProcess;
  stdin: Writable;
  /** lines of fast-import's answers (ls, progress) not yet taken */
  lines: string[];
  waiter: ((line: string | null) => void) | null;
  ended: boolean;
  stderr: string;
  commits: number;
}

export class FastImporter {
  private running: Running | null = null;
  private idle: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(private readonly root: string, private readonly opts: { idleMs?: number; maxCommits?: number } = {}) {}

  /**
   * One commit on `ref`: `body` sends its file commands (M/D lines). `from` is the parent (null: a
   * root commit). True once the branch has moved and is durable; false when the commit's tree is
   * the parent's (the branch is left where it was).
   */
  commit(ref: string, from: string | null, header: string | Buffer, body: (send: Send) => Promise<void>): Promise<boolean> {
    const run = this.queue.then(() => this.commitNow(ref, from, header, body));
    this.queue = run.catch(() => {});
    return run;
  }

  /** The running process's pid, undefined when none runs. */
  get pid(): number | undefined {
    return this.running?.proc.pid;
  }

  /** Ends the process (waiting for a commit under way). */
  async close(): Promise<void> {
    await this.queue;
    await this.end();
  }

  private async commitNow(ref: string, from: string | null, header: string | Buffer, body: (send: Send) => Promise<void>): Promise<boolean> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const r = this.running ?? this.start();
    hold(r, true);
    const send: Send = async (chunk) => {
      if (r.ended) throw this.failure(r);
      if (r.stdin.write(chunk)) return;
      // whichever comes first; the other's listeners are taken off (the process lives for many
      // commits, and each wait left a 'close' and an 'error' listener on its stdin)
      const waited = new AbortController();
      try {
        await Promise.race([once(r.stdin, 'drain', { signal: waited.signal }), once(r.stdin, 'close', { signal: waited.signal })]);
      } finally {
        waited.abort();
      }
    };
    try {
      if (!from) await send(`reset ${ref}\n\n`); // a root commit, whatever the process last had
      await send(`commit ${ref}\nmark :1\n`);
      await send(header);
      if (from) await send(`from ${from}\n`);
      await body(send);
      await send('\n');
      let changed = true;
      if (from) {
        await send(`ls :1 ""\nls ${from} ""\n`);
        const [mine, parents] = [await this.line(r), await this.line(r)];
        if (mine === parents) {
          changed = false;
          await send(`reset ${ref}\nfrom ${from}\n\n`);
        }
      }
      const tag = `morphux-${++this.seq}`;
      await send(`checkpoint\nprogress ${tag}\n`);
      const said = await this.line(r);
      if (said !== `progress ${tag}`) throw new MorphuxError('internal', `git fast-import answered ${JSON.stringify(said.slice(0, 200))}`);
      r.commits++;
      return changed;
    } catch (e) {
      // nothing more of this commit may land: the process goes, whatever it had
      await this.end('SIGKILL');
      throw e;
    } finally {
      hold(r, false);
      if (this.running === r && r.commits >= (this.opts.maxCommits ?? MAX_COMMITS)) await this.end();
      if (this.running) this.idle = setTimeout(() => void this.close(), this.opts.idleMs ?? IDLE_MS).unref();
    }
  }

  private start(): Running {
    const proc = spawnGit(['-c', 'fastimport.unpackLimit=1', 'fast-import', '--quiet', '--done'], { cwd: this.root, env: COMMITTER });
    const r: Running = { proc, stdin: proc.stdin!, lines: [], waiter: null, ended: false, stderr: '', commits: 0 };
    let partial = '';
    (proc.stdout as Readable).setEncoding('utf8').on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop()!;
      r.lines.push(...parts);
      this.wake(r);
    });
    (proc.stderr as Readable).setEncoding('utf8').on('data', (s: string) => { r.stderr = (r.stderr + s).slice(-2000); });
    r.stdin.on('error', () => { /* the process ended: its exit tells why */ });
    void proc.then(() => {
      r.ended = true;
      if (this.running === r) this.running = null;
      this.wake(r);
    });
    this.running = r;
    return r;
  }

  private wake(r: Running): void {
    const w = r.waiter;
    if (!w || (r.lines.length === 0 && !r.ended)) return;
    r.waiter = null;
    w(r.lines.length > 0 ? r.lines.shift()! : null);
  }

  /** The next line fast-import answers; throws when it ended instead. */
  private async line(r: Running): Promise<string> {
    const got = await new Promise<string | null>((resolve) => {
      r.waiter = resolve;
      this.wake(r);
    });
    if (got === null) throw this.failure(r);
    return got;
  }

  private failure(r: Running): MorphuxError {
    return new MorphuxError('internal', `store commit failed: git fast-import ended: ${r.stderr.trim().slice(-500) || 'no message'}`);
  }

  /** Ends the process: `done` (it ends its pack and exits) or a signal (nothing more lands). */
  private async end(signal?: 'SIGKILL'): Promise<void> {
    const r = this.running;
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (!r) return;
    this.running = null;
    hold(r, true);
    if (signal) r.proc.kill(signal);
    else if (!r.ended) r.stdin.end('done\n');
    await r.proc;
  }
}

/** Whether the process and its pipes keep this process's event loop alive (only while a commit
 *  is under way). */
function hold(r: Running, on: boolean): void {
  for (const h of [r.proc, r.proc.stdin, r.proc.stdout, r.proc.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>) {
    if (on) h?.ref?.();
    else h?.unref?.();
  }
}
