// /internal/worker, for remote build workers (a worker account's token, nothing else): claim a job,
// fetch dependency binaries, stream the log, finish (outcome, log, binaries; a rebuild check's
// outcome without them), each through the same
// LocalBuildHost as the embedded worker, so the server stays the one writer of the store.
import { Hono } from 'hono';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MorphuxError } from '../../domain/errors.js';
import {
  FINISH_FORM, isRebuild, jobKey, jobOf, parseFinishResult, parseJobRef, parseLogChunkQuery, WORKER_ROUTES, workerPaths,
  type BuildJobRef, type ClaimAnswer, type FinishAnswer,
} from '../../domain/worker-protocol.js';
import type { AppContext } from '../../service/app-context.js';
import { storePaths } from '../../store/layout/store-paths.js';
import type { SubmissionInfo } from '../../domain/submission.js';
import { admit } from '../../service/authorize.js';
import { requestLimits } from '../../service/request-limits.js';
import { principalOf } from '../auth.js';
import { readJsonBody } from '../read-json-body.js';
import { readBody } from '../read-body.js';

export function workerApi(ctx: AppContext): Hono<{ Variables: { worker: string } }> {
  const app = new Hono<{ Variables: { worker: string } }>();
  const limits = requestLimits(ctx.config);
  const log = ctx.log.child({ part: 'worker-api' });
  const host = ctx.builds;
  /** the current attempt of each build claimed by a remote worker (its live log is open) */
  const claimed = new Map<string, number>();
  app.use('*', async (c, next) => {
    const p = await principalOf(ctx, c);
    admit('worker.job', p);
    c.set('worker', p!.name);
    await next();
  });

  app.post(WORKER_ROUTES.claim, async (c) => {
    const job = parseJobRef(await readJsonBody(c, limits.workerJob));
    // taken again after a worker died: close the live log the dead one left open
    if (claimed.has(jobKey(job))) {
      claimed.delete(jobKey(job));
      host.release(job);
    }
    const claim = await host.claim(job);
    if (!claim) return c.json({ claimed: false } satisfies ClaimAnswer);
    claimed.set(jobKey(job), claim.attempt);
    log.info({ worker: c.get('worker'), pkgid: job.pkgid, arch: job.arch, attempt: claim.attempt }, 'build claimed by a remote worker');
    return c.json({
      claimed: true, info: claim.info, manifest: claim.manifest, attempt: claim.attempt, resolved: claim.resolved,
      ...(claim.environment ? { environment: claim.environment } : {}),
      dependency_error: claim.dependencyError, portpkg_url: `/pkg/${job.pkgid}`,
      dependencies: claim.dependencies.map((d) => ({ pkgid: d.pkgid, name: d.name, version: d.version, url: workerPaths.binaries({ pkgid: d.pkgid, arch: job.arch }) })),
    } satisfies ClaimAnswer);
  });

  app.get(WORKER_ROUTES.binaries, async (c) => {
    const { pkgid, arch } = parseJobRef({ pkgid: Number(c.req.param('pkgid')), arch: c.req.param('arch') });
    const file = ctx.store.abs(`${storePaths.binaries(pkgid, arch)}/files.tar.gz`);
    if (!existsSync(file)) throw new MorphuxError('not_found', `pkgid ${pkgid} has no binaries for ${arch}`);
    const st = await stat(file);
    return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream, 200, { 'Content-Type': 'application/gzip', 'Content-Length': String(st.size) });
  });

  app.post(WORKER_ROUTES.log, async (c) => {
    const { attempt, ...job } = parseLogChunkQuery(c.req.query());
    const chunk = await readBody(c, limits.workerLogChunk);
    if (claimed.get(jobKey(job)) === attempt) host.log(job, chunk);
    return c.body(null, 204);
  });

  app.post(WORKER_ROUTES.finish, async (c) => {
    // the body is limited while it is read (declared or chunked), then the form parsed from memory
    const buf = await readBody(c, limits.workerFinish);
    let form: FormData;
    try {
      form = await new Request('http://worker.invalid/finish', {
        method: 'POST', headers: { 'content-type': c.req.header('content-type') ?? '' },
        body: new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset, buf.length), // a view, not a copy
      }).formData();
    } catch {
      throw new MorphuxError('bad_request', 'the body must be a multipart form');
    }
    let result: unknown;
    try {
      result = JSON.parse(String(form.get(FINISH_FORM.result) ?? ''));
    } catch {
      throw new MorphuxError('bad_request', 'result must be JSON');
    }
    const r = parseFinishResult(result);
    const job: BuildJobRef = jobOf(r.pkgid, r.arch, r.kind);
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(job.pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${job.pkgid}`);
    const dir = await mkdtemp(path.join(ctx.layout.tmp, `worker-result-${job.pkgid}-${job.arch}-`));
    try {
      const save = async (field: string, name: string): Promise<string | null> => {
        const f = form.get(field);
        if (!(f instanceof File)) return null;
        const p = path.join(dir, name);
        await writeFile(p, Buffer.from(await f.arrayBuffer()));
        return p;
      };
      const logFile = (await save(FINISH_FORM.log, 'build.log')) ?? (await writeFile(path.join(dir, 'build.log'), ''), path.join(dir, 'build.log'));
      const binariesArchive = r.outcome.state === 'good' && !isRebuild(job) ? await save(FINISH_FORM.binaries, 'files.tar.gz') : null;
      // a rebuild check keeps no binaries: it sends their sha256 alone
      if (r.outcome.state === 'good' && !binariesArchive && !isRebuild(job)) throw new MorphuxError('bad_request', 'a good build needs its binaries');
      const outcome = { ...r.outcome, logFile, binariesArchive, measurements: r.outcome.measurements ?? null };
      const retry = await host.finish(job, { info, resolved: r.resolved, attempt: r.attempt }, outcome, { worker: c.get('worker') });
      log.info({ worker: c.get('worker'), pkgid: job.pkgid, arch: job.arch, attempt: r.attempt, state: outcome.state, reason: outcome.reason, retry: !!retry }, 'remote build recorded');
      if (claimed.get(jobKey(job)) === r.attempt) {
        claimed.delete(jobKey(job));
        host.release(job);
      }
      return c.json({ recorded: true, retry_ms: retry ? retry.delayMs : null } satisfies FinishAnswer);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return app;
}
