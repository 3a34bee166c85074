// `morphux rebuild PKGID`: the rebuild check of a good submission, on demand. The check is queued
// in the store (service/builds/request-rebuild.ts); with a Redis queue the job goes there, for any
// worker to take (--wait: until its verdict is recorded); with the embedded queue, which lives
// inside the server's process, this command runs the VM itself, as a worker would. Prints each
// arch's verdict and the files that differ; exit 0 only when every arch is reproducible.
import { BuildWorker } from '../builder/build-worker.js';
import type { LoadedConfig } from '../config/load-config.js';
import { MorphuxError } from '../domain/errors.js';
import { checkPkgid } from '../domain/names.js';
import type { RebuildRecord } from '../domain/rebuild.js';
import type { SubmissionStatus } from '../domain/submission.js';
import { createLogger } from '../lib/logger.js';
import { requestRebuild } from '../service/builds/request-rebuild.js';
import { storePaths } from '../store/layout/store-paths.js';
import { configFrom } from './cli-support.js';
import { runnerFor } from './morphux-commands.js';
import { openContext } from './open-instance.js';

export interface RebuildOpts {
  data?: string;
  config?: string;
  json?: boolean;
  /** Redis queue: wait for the verdict (seconds, default 0: queue and return) */
  wait?: string;
}

const settled = (r: RebuildRecord | undefined) => r?.state === 'done' || r?.state === 'failed';

export async function rebuildCommand(pkgidText: string, opts: RebuildOpts): Promise<void> {
  let pkgid: number;
  try {
    pkgid = checkPkgid(pkgidText.replace(/^.*\/pkg\//, '').replace(/\/+$/, ''));
  } catch {
    throw new MorphuxError('bad_request', `not a pkgid or pkgurl: ${pkgidText}`);
  }
  const waitSeconds = opts.wait === undefined ? 0 : Number(opts.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new MorphuxError('bad_request', `--wait must be seconds, not ${opts.wait}`);
  const config: LoadedConfig = configFrom(opts);
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const embedded = config.queue.kind === 'embedded';
  const ctx = await openContext(config, log, { runner: embedded ? runnerFor(config, log) : undefined });
  try {
    const jobs = await requestRebuild(ctx, pkgid);
    if (embedded) {
      // this process is the worker: the same BuildWorker.build a queue's worker runs, retries included
      const worker = ctx.worker as BuildWorker;
      for (const job of jobs) {
        for (let retry = await worker.build(job); retry; retry = await worker.build(job)) await new Promise((r) => setTimeout(r, retry!.delayMs));
      }
    } else {
      for (const job of jobs) await ctx.queue.enqueue(job);
      const until = Date.now() + waitSeconds * 1000;
      while (Date.now() < until) {
        const s = await ctx.store.readJson<SubmissionStatus>(storePaths.status(pkgid));
        if (config.builder.arches.every((a) => settled(s?.builds?.[a]?.rebuild))) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const status = await ctx.store.readJson<SubmissionStatus>(storePaths.status(pkgid));
    if (!status) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`);
    const checks = Object.fromEntries(config.builder.arches.map((a) => [a, status.builds?.[a]?.rebuild ?? null]));
    if (opts.json) {
      process.stdout.write(JSON.stringify({ pkgid, reproducible: status.reproducible ?? 'unchecked', rebuilds: checks }, null, 2) + '\n');
    } else {
      for (const [arch, r] of Object.entries(checks)) {
        const verdict = !r ? 'unchecked' : r.state === 'done' ? (r.reproducible ? 'reproducible' : 'NOT reproducible') : r.state === 'failed' ? 'unchecked' : `unchecked (check ${r.state})`;
        process.stdout.write(`pkgid ${pkgid} ${arch}: ${verdict}${r?.message ? ` — ${r.message}` : ''}\n`);
        for (const d of r?.differences ?? []) {
          const side = (f: RebuildRecord['differences'][number]['first']) => (f ? `${f.type} ${f.mode}${f.sha256 ? ` sha256 ${f.sha256}` : ''}${f.target ? ` -> ${f.target}` : ''}` : 'absent');
          process.stdout.write(`  ${d.path}\n    first:   ${side(d.first)}\n    rebuild: ${side(d.second)}\n`);
        }
      }
    }
    if (status.reproducible !== true) process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}
