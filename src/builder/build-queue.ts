// The build queue. A job is a small record {pkgid, arch} whose key is "<pkgid>:<arch>"; queuing
// the same key twice builds it once. A rebuild job ({pkgid, arch, kind: 'rebuild'}, the rebuild
// check of a good build) is a job like any other, taken after every waiting build. The embedded
// queue is in memory but loses nothing: the job's durable form is the submission's status.json
// (queued/building, or a rebuild queued/running), written in the same commit as the submission
// (or the good build), and the queue is rebuilt from the store at start-up.
import { isRebuild, jobKey, type BuildJobRef } from '../domain/worker-protocol.js';
import type { BuildProgress } from './build-progress.js';

// the job reference is the worker protocol's (a remote worker claims jobs by it)
export { jobKey, type BuildJobRef };

/** a taken job and where its build is (null before the worker said) */
export interface RunningJob extends BuildJobRef {
  progress: BuildProgress | null;
}

export interface BuildQueue {
  /** resolves once the job is queued (durably, for a queue engine) */
  enqueue(job: BuildJobRef, opts?: { delayMs?: number }): Promise<void>;
  /** waits for the next job (builds before rebuilds, lowest pkgid first); rejects when the signal aborts */
  take(signal: AbortSignal): Promise<BuildJobRef>;
  /** marks a taken job finished, so the same key may be queued again */
  done(job: BuildJobRef): void;
  /** jobs waiting, in order (a queue engine answers from its last look, refreshed in the background) */
  waiting(): BuildJobRef[];
  /** jobs taken and not done (a queue engine: by any worker, as of its last look) */
  running(): RunningJob[];
  /** where the build of a taken job is (a queue engine stores it with the job, for every process) */
  progress(job: BuildJobRef, progress: BuildProgress): void;
  close(): Promise<void>;
}

export class EmbeddedQueue implements BuildQueue {
  private readonly jobs: BuildJobRef[] = [];
  private readonly keys = new Set<string>();
  private readonly taken = new Map<string, RunningJob>();
  private waiters: Array<() => void> = [];

  async enqueue(job: BuildJobRef, opts: { delayMs?: number } = {}): Promise<void> {
    const key = jobKey(job);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    const add = () => {
      this.jobs.push(job);
      this.jobs.sort((a, b) => Number(isRebuild(a)) - Number(isRebuild(b)) || a.pkgid - b.pkgid || a.arch.localeCompare(b.arch));
      const w = this.waiters;
      this.waiters = [];
      for (const wake of w) wake();
    };
    if (opts.delayMs) setTimeout(add, opts.delayMs).unref();
    else add();
  }

  async take(signal: AbortSignal): Promise<BuildJobRef> {
    for (;;) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      const job = this.jobs.shift();
      if (job) {
        this.taken.set(jobKey(job), { ...job, progress: null });
        return job;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  done(job: BuildJobRef): void {
    this.taken.delete(jobKey(job));
    this.keys.delete(jobKey(job));
  }

  waiting(): BuildJobRef[] {
    return [...this.jobs];
  }

  running(): RunningJob[] {
    return [...this.taken.values()].map((j) => ({ ...j }));
  }

  progress(job: BuildJobRef, progress: BuildProgress): void {
    const t = this.taken.get(jobKey(job));
    if (t) t.progress = progress;
  }

  async close(): Promise<void> {}
}
