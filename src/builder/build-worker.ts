// The build worker, one implementation for embedded and remote: takes jobs from the queue (up to
// builder.concurrency VMs), claims each from its BuildHost (the store, or the server over HTTP),
// runs the VM streaming its log, and hands the outcome to the host; infra failures are retried.
// Reports each job's progress to the queue: resolving, booting, building (step i/n), installing,
// collecting, uploading. A rebuild job runs the same way; its host says what it builds with (the
// varied environment) and records only its verdict.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../lib/logger.js';
import { isMorphuxError } from '../domain/errors.js';
import type { BuildHost, Retry } from './build-host.js';
import { buildProgress, LogProgress } from './build-progress.js';
import type { BuildJobRef, BuildQueue } from './build-queue.js';
import { isRebuild } from '../domain/worker-protocol.js';
import type { BuildOutcome, VmRunner } from './vm/vm-types.js';

export interface BuildWorkerOptions {
  queue: BuildQueue;
  runner: VmRunner;
  config: LoadedConfig;
  log: Logger;
  /** where the store is: the server's own (service/builds/local-build-host.ts) or a remote one */
  host: BuildHost;
  /** where work dirs are made */
  tmpDir: string;
  /** delay before a job the worker could not record is tried again (default 2000 ms) */
  retryDelayMs?: number;
}

export class BuildWorker {
  private readonly stop = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly host: BuildHost;
  private readonly tmpDir: string;

  constructor(private readonly o: BuildWorkerOptions) {
    this.host = o.host;
    this.tmpDir = o.tmpDir;
  }

  start(): void {
    for (let i = 0; i < this.o.config.builder.concurrency; i++) this.loops.push(this.loop(i));
  }

  async close(): Promise<void> {
    this.stop.abort(new Error('worker stopping'));
    await Promise.allSettled(this.loops);
  }

  private async loop(slot: number): Promise<void> {
    while (!this.stop.signal.aborted) {
      let job: BuildJobRef;
      try {
        job = await this.o.queue.take(this.stop.signal);
      } catch {
        return;
      }
      let retry: Retry | void = undefined;
      try {
        retry = await this.build(job);
      } catch (err) {
        // the store write failed (disk full, server away, …): the job stays queued/building in
        // the store and is picked up again after a restart; never crash the process for it
        this.o.log.error({ err, pkgid: job.pkgid, arch: job.arch, slot }, 'build job failed to record');
        // a remote worker that cannot reach its server (or fetch the inputs) tries the job again later
        if (isMorphuxError(err, 'infrastructure')) retry = { delayMs: this.o.retryDelayMs ?? 2000 };
      } finally {
        // a worker stopping mid-build leaves the job taken: a queue engine gives it to another
        // worker once its lock expires; the embedded queue is rebuilt from the store at start-up
        if (!this.stop.signal.aborted) this.o.queue.done(job);
      }
      // queued again only once done: the queue ignores a key that is still taken
      if (retry) {
        await this.o.queue.enqueue(job, { delayMs: retry.delayMs }).catch((err: unknown) => {
          this.o.log.error({ err, pkgid: job.pkgid, arch: job.arch }, 'cannot queue the retry; it resumes after a restart');
        });
      }
    }
  }

  /** One job, start to recorded outcome. */
  async build(job: BuildJobRef): Promise<Retry | void> {
    const { config } = this.o;
    const rebuild = isRebuild(job);
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch, ...(rebuild ? { kind: 'rebuild' } : {}) });
    const t0 = Date.now();
    const workDir = await mkdtemp(path.join(this.tmpDir, `${rebuild ? 'rebuild' : 'build'}-${job.pkgid}-${job.arch}-`));
    try {
      // the host's downloads and the runner's disks each in a folder of their own
      const hostDir = path.join(workDir, 'host');
      const vmDir = path.join(workDir, 'vm');
      await Promise.all([mkdir(hostDir), mkdir(vmDir)]);
      this.o.queue.progress(job, buildProgress('resolving'));
      const claim = await this.host.claim(job, hostDir);
      if (!claim) return;
      try {
        const { info, attempt } = claim;
        const tStatus = Date.now();
        log.info({ name: info.name, version: info.version, attempt }, rebuild ? 'rebuild check started' : 'build started');
        let outcome: BuildOutcome;
        // no VM when the inputs could not be fetched (infrastructure) or the dependencies do not resolve
        if (claim.inputError || claim.dependencyError !== null || !claim.manifest) {
          const reason = claim.inputError ? 'infrastructure' : 'dependency';
          const message = claim.inputError || claim.dependencyError || 'invalid manifest';
          const logFile = path.join(workDir, 'no-vm.log');
          await writeFile(logFile, `${message}\n`);
          this.host.log(job, Buffer.from(`==> morphux: ${message}\n`));
          outcome = { state: 'failed', reason, message, logFile, measurements: null, binariesArchive: null, installed: [], phases: {} };
        } else {
          this.o.queue.progress(job, buildProgress('booting'));
          const phases = new LogProgress();
          outcome = await this.o.runner.run({
            pkgid: job.pkgid,
            arch: job.arch,
            sourceDir: claim.sourceDir,
            manifest: claim.manifest,
            dependencies: claim.dependencies,
            workDir: vmDir,
            timeoutSeconds: config.builder.timeout_seconds,
            idleSeconds: config.builder.log_idle_seconds,
            memoryMib: config.builder.memory_mib,
            cpus: config.builder.cpus,
            environment: claim.environment,
            onLog: (c) => {
              this.host.log(job, c);
              const p = phases.feed(c);
              if (p) this.o.queue.progress(job, p);
            },
            signal: this.stop.signal,
          });
        }
        if (this.stop.signal.aborted) return log.info('worker stopping: the build stays "building" and is taken again later');
        const tRecord = Date.now();
        this.o.queue.progress(job, buildProgress('uploading'));
        const retry = await this.host.finish(job, claim, outcome);
        log.info({
          state: outcome.state, reason: outcome.reason, phases: outcome.phases,
          queue_wait_seconds: (t0 - Date.parse(info.submitted_at)) / 1000,
          status_commit_seconds: (tStatus - t0) / 1000, record_commit_seconds: (Date.now() - tRecord) / 1000,
          total_seconds: (Date.now() - t0) / 1000,
        }, retry ? 'build attempt ended; retry queued' : rebuild ? 'rebuild check finished' : 'build finished');
        return retry;
      } finally {
        this.host.release(job);
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
