// The build worker: takes jobs from the queue, marks the submission building, resolves its
// dependencies, runs the VM through the VmRunner, and records the outcome (status, the builder's
// report with the full log, the binaries) in one store commit. Safe to re-run: a job whose
// submission is already good or failed is skipped; a VM that dies without a result is an
// infrastructure failure, retried with backoff and never blamed on the package.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../config/logger.js';
import { isMorphuxError } from '../domain/errors.js';
import { parseManifest } from '../domain/manifest.js';
import { storePaths } from '../store/store-paths.js';
import type { Store } from '../store/store.js';
import type { SubmissionInfo, SubmissionStatus } from '../store/submission-types.js';
import { updateStatus } from '../store/update-status.js';
import type { BuildJobRef, BuildQueue } from './build-queue.js';
import type { LiveLogs } from './live-logs.js';
import { resolveDependencies, type CandidateLookup } from './resolve-dependencies.js';
import type { BuildOutcome, VmRunner } from './vm/vm-types.js';

export const MAX_ATTEMPTS = 3;

export interface BuildWorkerOptions {
  store: Store;
  queue: BuildQueue;
  runner: VmRunner;
  liveLogs: LiveLogs;
  candidates: CandidateLookup;
  config: LoadedConfig;
  log: Logger;
}

export class BuildWorker {
  private readonly stop = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly o: BuildWorkerOptions) {}

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
      try {
        await this.build(job);
      } catch (err) {
        // the store write failed (disk full, …): the job stays queued/building in the store and
        // is picked up again after a restart; never crash the server for it
        this.o.log.error({ err, pkgid: job.pkgid, arch: job.arch, slot }, 'build job failed to record');
      } finally {
        this.o.queue.done(job);
      }
    }
  }

  /** One job, start to recorded outcome. */
  async build(job: BuildJobRef): Promise<void> {
    const { store, config } = this.o;
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch });
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(job.pkgid));
    const current = await store.readJson<SubmissionStatus>(storePaths.status(job.pkgid));
    if (!info || !current) return log.warn('job for a submission that does not exist; dropped');
    if (current.state === 'good' || current.state === 'failed') return log.info({ state: current.state }, 'already built; skipped');
    const t0 = Date.now();
    const status = await updateStatus(store, job.pkgid, {
      message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): building`,
      actor: 'builder',
      change: (s) => { s.state = 'building'; s.reason = null; s.message = null; s.attempts += 1; },
    });
    const tStatus = Date.now();
    log.info({ name: info.name, version: info.version, attempt: status.attempts }, 'build started');

    const workDir = await mkdtemp(path.join(store.tmpDir, `build-${job.pkgid}-${job.arch}-`));
    try {
      let outcome: BuildOutcome;
      let resolved: number[] = [];
      try {
        const manifest = parseManifest(await readFile(store.abs(`${storePaths.unpacked(job.pkgid)}/package.json`)));
        const deps = await resolveDependencies(
          { name: info.name, version: info.version, dependencies: manifest.dependencies ?? {}, build_dependencies: manifest.build_dependencies ?? {} },
          this.o.candidates,
        );
        resolved = deps.map((d) => d.pkgid);
        this.o.liveLogs.start(job.pkgid);
        outcome = await this.o.runner.run({
          pkgid: job.pkgid,
          arch: job.arch,
          sourceDir: store.abs(storePaths.unpacked(job.pkgid)),
          manifest,
          dependencies: deps.map((d) => ({ pkgid: d.pkgid, name: d.name, version: d.version, archive: store.abs(`${storePaths.binaries(d.pkgid, job.arch)}/files.tar.gz`) })),
          workDir,
          timeoutSeconds: config.builder.timeout_seconds,
          memoryMib: config.builder.memory_mib,
          cpus: config.builder.cpus,
          onLog: (c) => this.o.liveLogs.append(job.pkgid, c),
          signal: this.stop.signal,
        });
      } catch (err) {
        if (!isMorphuxError(err, 'dependency') && !isMorphuxError(err, 'invalid_manifest')) throw err;
        const logFile = path.join(workDir, 'dependency.log');
        await writeFile(logFile, `${err.message}\n`);
        outcome = { state: 'failed', reason: 'dependency', message: err.message, logFile, measurements: null, binariesArchive: null, installed: [], phases: {} };
      } finally {
        this.o.liveLogs.end(job.pkgid);
      }
      if (this.stop.signal.aborted) return log.info('worker stopping: the build stays "building" and resumes after a restart');
      const tRecord = Date.now();
      await this.record(job, info, outcome, resolved, status.attempts, log);
      log.info({
        state: outcome.state, reason: outcome.reason, phases: outcome.phases,
        queue_wait_seconds: (t0 - Date.parse(info.submitted_at)) / 1000,
        status_commit_seconds: (tStatus - t0) / 1000, record_commit_seconds: (Date.now() - tRecord) / 1000,
        total_seconds: (Date.now() - t0) / 1000,
      }, 'build finished');
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async record(job: BuildJobRef, info: SubmissionInfo, o: BuildOutcome, resolved: number[], attempts: number, log: Logger): Promise<void> {
    const { store, queue } = this.o;
    if (o.reason === 'infrastructure' && attempts < MAX_ATTEMPTS) {
      const delayMs = 2000 * 2 ** (attempts - 1);
      log.warn({ message: o.message, attempts, retry_in_ms: delayMs }, 'infrastructure failure; the build will be retried');
      await updateStatus(store, job.pkgid, {
        message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}): infrastructure failure, queued again`,
        actor: 'builder',
        change: (s) => { s.state = 'queued'; s.message = `retrying after an infrastructure failure: ${o.message}`; },
      });
      queue.enqueue(job, { delayMs });
      return;
    }
    const m = o.measurements;
    await updateStatus(store, job.pkgid, {
      message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): ${o.state}${o.reason ? ` (${o.reason})` : ''}`,
      actor: 'builder',
      change: (s) => {
        s.state = o.state;
        s.reason = o.reason;
        s.message = o.message;
        s.build = m ? { ...m, resolved_dependencies: resolved, phases: { ...o.phases } } : null;
      },
      report: { reporter: 'builder', kind: 'builder', status: o.state === 'good' ? 'ok' : 'failed', arch: job.arch, reason: o.reason, message: o.message, logFile: o.logFile },
      binaries: o.state === 'good' && o.binariesArchive ? { arch: job.arch, archive: o.binariesArchive, manifest: { pkgid: job.pkgid, arch: job.arch, files: o.installed } } : undefined,
    });
  }
}
