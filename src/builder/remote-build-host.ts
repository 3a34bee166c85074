// The BuildHost of a remote worker (`morphux worker`): the server's internal worker API over HTTP
// with a worker token. claim downloads the portpkg (unpacked into the work dir) and the dependency
// binaries (a failed download makes the attempt an infrastructure failure); the log is posted in
// chunks about once a second; finish uploads outcome, log, binaries (a rebuild job: the binaries'
// sha256 alone, as the server keeps only the check's verdict).
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../lib/logger.js';
import { MorphuxError, type ErrorCode } from '../domain/errors.js';
import { unpackPortpkg } from '../portpkg/unpack-portpkg.js';
import type { BuildClaim, BuildHost, Retry } from './build-host.js';
import { createHash } from 'node:crypto';
import { FINISH_FORM, isRebuild, jobKey, workerPaths, type BuildJobRef, type ClaimAnswer, type FinishAnswer, type FinishResult } from '../domain/worker-protocol.js';
import type { BuildOutcome } from './vm/vm-types.js';

export interface RemoteBuildHostOptions {
  /** the server's base URL */
  server: string;
  token: string;
  log: Logger;
}

interface LogBuffer {
  attempt: number;
  chunks: Buffer[];
  sending: Promise<void>;
  timer: NodeJS.Timeout;
}

export class RemoteBuildHost implements BuildHost {
  private readonly logs = new Map<string, LogBuffer>();

  constructor(private readonly o: RemoteBuildHostOptions) {}

  private async call(p: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(p, this.o.server), { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.o.token}` } });
    } catch (err) {
      throw new MorphuxError('infrastructure', `server ${this.o.server} unreachable: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      const code = (body?.error?.code ?? 'infrastructure') as ErrorCode;
      throw new MorphuxError(code, `${init.method ?? 'GET'} ${p}: ${res.status} ${body?.error?.message ?? ''}`.trim());
    }
    return res;
  }

  private async download(p: string, file: string): Promise<void> {
    const res = await this.call(p);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
  }

  async claim(job: BuildJobRef, workDir: string): Promise<BuildClaim | null> {
    const res = await this.call(workerPaths.claim, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(job) });
    const c = (await res.json()) as ClaimAnswer;
    if (!c.claimed) return null;
    const sourceDir = path.join(workDir, 'src');
    const depDir = path.join(workDir, 'deps');
    await mkdir(depDir, { recursive: true });
    const claim: BuildClaim = { info: c.info, manifest: c.manifest, sourceDir, dependencies: [], resolved: c.resolved, attempt: c.attempt, dependencyError: c.dependency_error, environment: c.environment };
    const logBuf: LogBuffer = { attempt: c.attempt, chunks: [], sending: Promise.resolve(), timer: setInterval(() => this.flush(job), 1000) };
    logBuf.timer.unref();
    this.logs.set(jobKey(job), logBuf);
    if (c.dependency_error === null) {
      try {
        await this.fetchInputs(c, claim, sourceDir, depDir);
      } catch (err) {
        // the server marked this attempt building: it ends as an infrastructure failure (finish),
        // so the server retries it with backoff and gives up after builder.max_attempts
        claim.inputError = `cannot fetch the build's inputs from ${this.o.server}: ${(err as Error).message}`;
        this.o.log.warn({ pkgid: job.pkgid, arch: job.arch, attempt: c.attempt, err }, 'inputs not fetched; the attempt ends as an infrastructure failure');
      }
    }
    return claim;
  }

  private async fetchInputs(c: Pick<ClaimAnswer & { claimed: true }, 'portpkg_url' | 'dependencies'>, claim: BuildClaim, sourceDir: string, depDir: string): Promise<void> {
    const tgz = Buffer.from(await (await this.call(c.portpkg_url)).arrayBuffer());
    await unpackPortpkg(tgz, sourceDir);
    for (const d of c.dependencies) {
      const archive = path.join(depDir, `${d.pkgid}.tar.gz`);
      await this.download(d.url, archive);
      claim.dependencies.push({ pkgid: d.pkgid, name: d.name, version: d.version, archive });
    }
  }

  log(job: BuildJobRef, chunk: Buffer): void {
    this.logs.get(jobKey(job))?.chunks.push(chunk);
  }

  /** Posts what the log gathered since the last flush; a lost chunk only costs the live view. */
  private flush(job: BuildJobRef): Promise<void> {
    const b = this.logs.get(jobKey(job));
    if (!b) return Promise.resolve();
    b.sending = b.sending.then(async () => {
      if (!b.chunks.length) return;
      const body = Buffer.concat(b.chunks.splice(0));
      await this.call(workerPaths.log({ pkgid: job.pkgid, arch: job.arch, attempt: b.attempt }), { method: 'POST', body })
        .catch((err: unknown) => this.o.log.debug({ err }, 'live log chunk not delivered'));
    });
    return b.sending;
  }

  async finish(job: BuildJobRef, claim: Pick<BuildClaim, 'info' | 'resolved' | 'attempt'>, o: BuildOutcome): Promise<Retry | void> {
    await this.flush(job);
    const form = new FormData();
    const rebuild = isRebuild(job);
    // a rebuild uploads no binaries: their sha256 says whether the archives are the same bytes
    const binariesSha256 = rebuild && o.state === 'good' && o.binariesArchive ? createHash('sha256').update(await readFile(o.binariesArchive)).digest('hex') : null;
    const result: FinishResult = {
      pkgid: job.pkgid, arch: job.arch, ...(rebuild ? { kind: 'rebuild' as const } : {}), attempt: claim.attempt, resolved: claim.resolved,
      outcome: {
        state: o.state, reason: o.reason, message: o.message, measurements: o.measurements, installed: o.installed, phases: o.phases,
        ...(o.vm ? { vm: o.vm } : {}), ...(o.started_at ? { started_at: o.started_at } : {}), ...(o.finished_at ? { finished_at: o.finished_at } : {}),
        ...(binariesSha256 ? { binaries_sha256: binariesSha256 } : {}),
      },
    };
    form.set(FINISH_FORM.result, JSON.stringify(result));
    form.set(FINISH_FORM.log, new Blob([await readFile(o.logFile)]), 'build.log');
    if (o.state === 'good' && o.binariesArchive && !rebuild) form.set(FINISH_FORM.binaries, new Blob([await readFile(o.binariesArchive)]), 'files.tar.gz');
    try {
      const res = await this.call(workerPaths.finish, { method: 'POST', body: form });
      const r = (await res.json()) as FinishAnswer;
      return r.retry_ms === null ? undefined : { delayMs: r.retry_ms };
    } catch (err) {
      if (err instanceof MorphuxError && err.code === 'conflict') {
        this.o.log.warn({ pkgid: job.pkgid, arch: job.arch, attempt: claim.attempt }, 'result refused: another attempt owns this build now');
        return;
      }
      throw err;
    }
  }

  release(job: BuildJobRef): void {
    const b = this.logs.get(jobKey(job));
    if (!b) return;
    clearInterval(b.timer);
    this.logs.delete(jobKey(job));
  }
}
