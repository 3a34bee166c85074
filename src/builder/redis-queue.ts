// The build queue on BullMQ/Redis, for builders on many machines: one queue per architecture,
// job id "pkg-<pkgid>-<arch>" so a job queued twice is built once, jobs fetched by hand
// (getNextJob) to fit the worker's take()/done() loop. A taken job holds a lock that is extended
// while its VM runs; a worker that dies stops extending it, and BullMQ's stalled-job check puts
// the job back for another worker within lock + check interval. Retries belong to the build
// worker (infrastructure failures only), so BullMQ itself never retries. The worker's progress
// (phase, percent) is the BullMQ job's progress, so every process sees where each build is.
// A rebuild job (the rebuild check) is a job of the same queue, id "pkg-<pkgid>-<arch>-rebuild",
// with a priority, so that BullMQ hands out every waiting build first (spare workers take them).
import { Queue, Worker, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { Arch } from '../domain/arch.js';
import type { Logger } from '../lib/logger.js';
import type { BuildProgress } from './build-progress.js';
import { jobKey, type BuildJobRef, type BuildQueue, type RunningJob } from './build-queue.js';
import { isRebuild, jobOf } from '../domain/worker-protocol.js';

export interface RedisQueueOptions {
  url: string;
  arches: readonly Arch[];
  log: Logger;
  /** how long a taken job stays locked without being extended */
  lockMs?: number;
  /** how often stalled jobs are looked for */
  stalledCheckMs?: number;
  /** key prefix in Redis (tests use one each) */
  prefix?: string;
}

interface Held {
  job: Job;
  token: string;
  timer: NodeJS.Timeout;
  progress: BuildProgress | null;
}

export const queueName = (arch: Arch) => `morphux-build-${arch}`;
export const redisJobId = (j: BuildJobRef) => `pkg-${j.pkgid}-${j.arch}${isRebuild(j) ? '-rebuild' : ''}`;
/** BullMQ's priority of a rebuild job: after every job without one (the builds) */
const REBUILD_PRIORITY = 10;
const refOf = (data: { pkgid: unknown; arch: unknown; kind?: unknown }): BuildJobRef => jobOf(Number(data.pkgid), data.arch as Arch, data.kind);

function connectionOf(url: string) {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`queue.url must be redis://…, not ${url}`);
  return {
    host: u.hostname, port: Number(u.port || 6379), username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined, db: Number(u.pathname.slice(1) || 0),
    tls: u.protocol === 'rediss:' ? {} : undefined, maxRetriesPerRequest: null,
  };
}

export class RedisQueue implements BuildQueue {
  private readonly queues = new Map<Arch, Queue>();
  private readonly workers = new Map<Arch, Worker>();
  private readonly held = new Map<string, Held>();
  /** jobs being moved to completed: queuing the same key again waits for it (else Redis still holds the id and ignores the add) */
  private readonly completing = new Map<string, Promise<void>>();
  private snapshot: BuildJobRef[] = [];
  /** jobs taken by any worker (this process's or another's), as of the last refresh */
  private active: RunningJob[] = [];
  private readonly refresher: NodeJS.Timeout;
  private readonly lockMs: number;

  constructor(private readonly o: RedisQueueOptions) {
    const connection = connectionOf(o.url);
    this.lockMs = o.lockMs ?? 60_000;
    for (const arch of o.arches) {
      this.queues.set(arch, new Queue(queueName(arch), { connection, prefix: o.prefix }));
      const w = new Worker(queueName(arch), null, {
        connection, prefix: o.prefix, autorun: false, lockDuration: this.lockMs,
        stalledInterval: o.stalledCheckMs ?? 30_000, maxStalledCount: 1000, drainDelay: 2,
      });
      w.on('error', (err) => o.log.warn({ err, arch }, 'redis queue worker error'));
      void w.startStalledCheckTimer().catch((err) => o.log.warn({ err }, 'stalled-job check could not start'));
      this.workers.set(arch, w);
    }
    this.refresher = setInterval(() => void this.refresh(), 2000);
    this.refresher.unref();
  }

  private queueFor(arch: Arch): Queue {
    const q = this.queues.get(arch);
    if (!q) throw new Error(`no queue for arch ${arch}`);
    return q;
  }

  async enqueue(job: BuildJobRef, opts: { delayMs?: number } = {}): Promise<void> {
    await this.completing.get(jobKey(job));
    const rebuild = isRebuild(job);
    await this.queueFor(job.arch).add(rebuild ? 'rebuild' : 'build', { pkgid: job.pkgid, arch: job.arch, ...(rebuild ? { kind: 'rebuild' } : {}) }, {
      jobId: redisJobId(job), delay: opts.delayMs, attempts: 1, removeOnComplete: true, removeOnFail: true,
      ...(rebuild ? { priority: REBUILD_PRIORITY } : {}),
    });
  }

  async take(signal: AbortSignal): Promise<BuildJobRef> {
    const arches = [...this.workers.keys()];
    for (;;) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      for (const arch of arches) {
        const token = randomUUID();
        // with one arch, block in Redis (up to drainDelay); with several, poll each in turn
        const job = (await this.workers.get(arch)!.getNextJob(token, { block: arches.length === 1 })) as Job | undefined;
        if (!job) continue;
        const ref = refOf(job.data);
        const timer = setInterval(() => {
          job.extendLock(token, this.lockMs).catch((err) => this.o.log.warn({ err, job: job.id }, 'could not extend a build job lock'));
        }, Math.max(500, Math.floor(this.lockMs / 3)));
        timer.unref();
        this.held.set(jobKey(ref), { job, token, timer, progress: null });
        return ref;
      }
      if (arches.length !== 1) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  done(job: BuildJobRef): void {
    const key = jobKey(job);
    const h = this.held.get(key);
    if (!h) return;
    clearInterval(h.timer);
    this.held.delete(key);
    const completed: Promise<void> = h.job.moveToCompleted('done', h.token, false).then(
      () => undefined,
      (err) => this.o.log.warn({ err, job: h.job.id }, 'could not complete a build job'),
    ).finally(() => {
      if (this.completing.get(key) === completed) this.completing.delete(key);
    });
    this.completing.set(key, completed);
  }

  /** Where a held job's build is: stored as the BullMQ job's progress (a lost update only costs the view). */
  progress(job: BuildJobRef, progress: BuildProgress): void {
    const h = this.held.get(jobKey(job));
    if (!h) return;
    h.progress = progress;
    h.job.updateProgress({ ...progress }).catch((err) => this.o.log.debug({ err, job: h.job.id }, 'could not store a build job\'s progress'));
  }

  private async refresh(): Promise<void> {
    try {
      const all: BuildJobRef[] = [];
      const active: RunningJob[] = [];
      for (const q of this.queues.values()) {
        for (const j of await q.getJobs(['waiting', 'delayed', 'prioritized'], 0, 500)) if (j) all.push(refOf(j.data));
        for (const j of await q.getJobs(['active'], 0, 500)) {
          if (j) active.push({ ...refOf(j.data), progress: typeof j.progress === 'object' ? (j.progress as unknown as BuildProgress) : null });
        }
      }
      this.snapshot = all.sort((a, b) => Number(isRebuild(a)) - Number(isRebuild(b)) || a.pkgid - b.pkgid);
      this.active = active.sort((a, b) => a.pkgid - b.pkgid);
    } catch { /* keep the last snapshot */ }
  }

  waiting(): BuildJobRef[] {
    return [...this.snapshot];
  }

  /** Jobs taken here (progress as of now) and by other workers (as of the last refresh). */
  running(): RunningJob[] {
    const mine = new Map<string, RunningJob>();
    for (const h of this.held.values()) {
      const ref = refOf(h.job.data);
      mine.set(jobKey(ref), { ...ref, progress: h.progress });
    }
    return [...mine.values(), ...this.active.filter((j) => !mine.has(jobKey(j)))];
  }

  /** Stops fetching; jobs still held keep their lock until it expires, then go back to the queue. */
  async close(): Promise<void> {
    clearInterval(this.refresher);
    for (const h of this.held.values()) clearInterval(h.timer);
    await Promise.allSettled([...this.workers.values()].map((w) => w.close(true)));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
