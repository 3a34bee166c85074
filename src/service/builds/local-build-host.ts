// The store-backed BuildHost: the server's own (the embedded worker and the remote workers' API
// both go through the one the composition root makes). claim marks the arch building and resolves
// dependencies; finish records the outcome in one store commit, refusing a result whose attempt is
// no longer the current one; a good build's binaries go in with their provenance, signed with the
// publishing key (provenanceRun). Every build exports SOURCE_DATE_EPOCH, the commit's time (an
// upload's: its submission time). A good build that builder.rebuild selects gets a rebuild check,
// queued in the same commit (its durable job) and on the queue after it: a rebuild job's claim
// gives the same inputs and dependencies as the good build with a varied environment, its finish
// compares the two manifests (domain/rebuild.ts) and records the verdict (store/changes/record-rebuild.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../lib/logger.js';
import type { Arch } from '../../domain/arch.js';
import { isMorphuxError, MorphuxError } from '../../domain/errors.js';
import { parseManifest, type Manifest } from '../../domain/manifest.js';
import { storePaths } from '../../store/layout/store-paths.js';
import type { Store } from '../../store/tree/store.js';
import { nowIso, type ArchBuildStatus, type SubmissionInfo, type SubmissionStatus } from '../../domain/submission.js';
import type { RebuildRecord } from '../../domain/rebuild.js';
import { isRebuild, jobOf } from '../../domain/worker-protocol.js';
import {
  compareManifests, doneRebuild, firstBuildEnvironment, queuedRebuild, rebuildEnvironment, rebuildWanted,
  type ManifestFile, type RebuildPolicy,
} from '../../domain/rebuild.js';
import { recordRebuild } from '../../store/changes/record-rebuild.js';
import { fileDigest } from '../../store/layout/indexed-builds.js';
import { commitTime } from '../../repos/read-at-commit.js';
import { repoDir } from '../../repos/repo-paths.js';
import { updateStatus } from '../../store/changes/update-status.js';
import type { BuildJobRef } from '../../builder/build-queue.js';
import type { LiveLogs } from '../../builder/live-logs.js';
import { mergeArchStatus } from '../../builder/merge-arch-status.js';
import { resolveDependencies, type CandidateLookup } from '../../domain/resolve-dependencies.js';
import type { BuildOutcome, DependencyBinaries } from '../../builder/vm/vm-types.js';
import type { BuildClaim, BuildHost, Retry } from '../../builder/build-host.js';
import type { ProvenanceKey, ProvenanceRun } from '../../domain/provenance-statement.js';

export interface LocalBuildHostOptions {
  store: Store;
  liveLogs: LiveLogs;
  candidates: CandidateLookup;
  arches: readonly Arch[];
  maxAttempts: number;
  log: Logger;
  /** first retry delay after an infrastructure failure, doubled each time (default 2000 ms) */
  retryDelayMs?: number;
  /** what a good build's provenance is signed with and names (default: unsigned, http://localhost) */
  provenance?: ProvenanceSettings;
  /** which good builds get the rebuild check (config builder.rebuild; default none) */
  rebuild?: RebuildPolicy;
  /** puts a job on the build queue (a good build's rebuild check); none: it waits for start-up's reconcile */
  enqueue?: (job: BuildJobRef) => Promise<void>;
  /** DATA/repos: where a pushed submission's commit time is read (SOURCE_DATE_EPOCH) */
  reposRoot?: string;
}

/** Where a good build's provenance gets the instance's base URL and the publishing key. */
export interface ProvenanceSettings {
  /** the base URL users reach the instance at (its URIs are under it) */
  origin: () => string;
  /** the active publishing signing key; null when the instance has none (`morphux keys init`) */
  key: () => Promise<ProvenanceKey | null>;
}

/** Who ran a build, as its provenance's builder id names it: the embedded worker, or a remote worker's account. */
export interface BuildReporter {
  /** the worker account whose token finished it (the worker API) */
  worker?: string;
}

export class LocalBuildHost implements BuildHost {
  constructor(private readonly o: LocalBuildHostOptions) {}

  /** SOURCE_DATE_EPOCH of a submission: its commit's time, or (an upload, or a repo gone) its submission time. */
  async sourceDateEpoch(info: SubmissionInfo): Promise<number> {
    if (info.source.type === 'git' && this.o.reposRoot) {
      try {
        return await commitTime(repoDir(this.o.reposRoot, info.name), info.source.commit);
      } catch (err) {
        this.o.log.warn({ err, pkgid: info.pkgid }, 'no commit time; SOURCE_DATE_EPOCH is the submission time');
      }
    }
    return Math.floor(Date.parse(info.submitted_at) / 1000);
  }

  async claim(job: BuildJobRef): Promise<BuildClaim | null> {
    if (isRebuild(job)) return this.claimRebuild(job);
    const { store, arches } = this.o;
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch });
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(job.pkgid));
    const current = await store.readJson<SubmissionStatus>(storePaths.status(job.pkgid));
    if (!info || !current) {
      log.warn('job for a submission that does not exist; dropped');
      return null;
    }
    const mine = current.builds?.[job.arch];
    if (current.state === 'good' || current.state === 'failed' || mine?.state === 'good' || mine?.state === 'failed') {
      log.info({ state: current.state, arch_state: mine?.state }, 'already built; skipped');
      return null;
    }
    // the live log opens before the status says building, so a reader who sees building can follow it
    this.o.liveLogs.start(job.pkgid);
    const sourceDir = store.abs(storePaths.unpacked(job.pkgid));
    // what the build needs (manifest, dependencies, environment), read while the status commit runs
    const inputs = this.inputsOf(job, info, sourceDir);
    inputs.catch(() => undefined); // awaited below; an error before then is not unhandled
    try {
      // a job already `building` is taken again: a worker that died, or a restart
      const status = await updateStatus(store, job.pkgid, {
        message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): building`,
        actor: 'builder',
        change: (s) => {
          const prev = s.builds?.[job.arch];
          s.builds = { ...s.builds, [job.arch]: archEntry({ state: 'building', attempts: (prev?.attempts ?? 0) + 1 }) };
          s.attempts += 1;
          mergeArchStatus(s, arches);
        },
      });
      const attempt = status.builds![job.arch]!.attempts;
      return { info, sourceDir, attempt, ...(await inputs) };
    } catch (err) {
      await inputs.catch(() => undefined);
      this.release(job);
      throw err;
    }
  }

  /** A first build's inputs: its manifest, its dependencies resolved to built binaries (or why they
   *  are not: a `dependency` failure) and its environment. */
  private async inputsOf(job: BuildJobRef, info: SubmissionInfo, sourceDir: string): Promise<Pick<BuildClaim, 'manifest' | 'dependencies' | 'resolved' | 'dependencyError' | 'environment'>> {
    const environment = firstBuildEnvironment(await this.sourceDateEpoch(info));
    const none = { dependencies: [], resolved: [], environment };
    let m: Manifest;
    try {
      m = parseManifest(await readFile(`${sourceDir}/package.json`));
    } catch (err) {
      if (!isMorphuxError(err, 'invalid_manifest')) throw err;
      return { ...none, manifest: null, dependencyError: err.message };
    }
    try {
      const deps = await resolveDependencies(
        { name: info.name, version: info.version, dependencies: m.dependencies ?? {}, build_dependencies: m.build_dependencies ?? {} },
        this.o.candidates,
      );
      const dependencies = this.binariesOf(deps, job);
      if (deps.length) this.log(job, Buffer.from(`==> morphux: dependencies ${deps.map((d) => `${d.name} ${d.version} (pkgid ${d.pkgid})`).join(', ')}\n`));
      return { manifest: m, dependencies, resolved: deps.map((d) => d.pkgid), dependencyError: null, environment };
    } catch (err) {
      if (!isMorphuxError(err, 'dependency')) throw err;
      return { ...none, manifest: m, dependencyError: err.message };
    }
  }

  /** A rebuild check's job: the good build's inputs and dependencies, a varied environment; null
   *  when there is no check to run (none asked, already done, or the build is not good). */
  private async claimRebuild(job: BuildJobRef): Promise<BuildClaim | null> {
    const { store, arches } = this.o;
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch, kind: 'rebuild' });
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(job.pkgid));
    const current = await store.readJson<SubmissionStatus>(storePaths.status(job.pkgid));
    const b = current?.builds?.[job.arch];
    const r = b?.rebuild;
    if (!info || b?.state !== 'good' || (r?.state !== 'queued' && r?.state !== 'running')) {
      log.info({ arch_state: b?.state, rebuild: r?.state }, 'no rebuild check to run; skipped');
      return null;
    }
    const environment = rebuildEnvironment(await this.sourceDateEpoch(info));
    // a check already `running` is taken again: a worker that died, or a restart
    const status = await recordRebuild(store, job.pkgid, {
      message: `rebuild check of ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): running`,
      arches,
      change: { [job.arch]: (prev: RebuildRecord | undefined) => ({ ...(prev ?? queuedRebuild(nowIso())), state: 'running', attempts: (prev?.attempts ?? 0) + 1, message: null, environment }) },
    });
    const attempt = status.builds![job.arch]!.rebuild!.attempts;
    const sourceDir = store.abs(storePaths.unpacked(job.pkgid));
    const resolved = b.resolved_dependencies ?? [];
    const claim: BuildClaim = { info, manifest: null, sourceDir, dependencies: [], resolved, attempt, dependencyError: null, environment };
    try {
      claim.manifest = parseManifest(await readFile(`${sourceDir}/package.json`));
      // the very dependencies the good build had, not what resolves today
      const deps = [];
      for (const pkgid of resolved) {
        const d = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
        if (!d) throw new MorphuxError('dependency', `dependency pkgid ${pkgid} is gone`, { pkgid });
        deps.push({ pkgid, name: d.name, version: d.version });
      }
      claim.dependencies = this.binariesOf(deps, job);
    } catch (err) {
      if (!isMorphuxError(err, 'dependency') && !isMorphuxError(err, 'invalid_manifest')) throw err;
      claim.dependencyError = err.message;
    }
    return claim;
  }

  log(job: BuildJobRef, chunk: Buffer): void {
    // a rebuild's log is not the submission's: GET /api/v1/pkg/N/log keeps the build's
    if (!isRebuild(job)) this.o.liveLogs.append(job.pkgid, chunk);
  }

  release(job: BuildJobRef): void {
    if (!isRebuild(job)) this.o.liveLogs.end(job.pkgid);
  }

  /** The binaries archive of each resolved dependency for this arch; missing ones fail as `dependency`. */
  private binariesOf(deps: { pkgid: number; name: string; version: string }[], job: BuildJobRef): DependencyBinaries[] {
    return deps.map((d) => {
      const archive = this.o.store.abs(`${storePaths.binaries(d.pkgid, job.arch)}/files.tar.gz`);
      if (!existsSync(archive)) {
        throw new MorphuxError('dependency', `${d.name} ${d.version} (pkgid ${d.pkgid}) has no binaries for ${job.arch}`, { package: d.name, pkgid: d.pkgid, arch: job.arch });
      }
      return { pkgid: d.pkgid, name: d.name, version: d.version, archive };
    });
  }

  /**
   * The run facts a good build's provenance is made with (store/changes/build-provenance.ts): the
   * builder id (`<origin>/builders/embedded`, or `…/builders/worker/<account>`), the runner's times
   * and VM image digests, and the active publishing key (none: recorded unsigned, and said so).
   */
  async provenanceRun(by: BuildReporter = {}, o: Pick<BuildOutcome, 'vm' | 'started_at' | 'finished_at'> = {}): Promise<ProvenanceRun> {
    const origin = (this.o.provenance?.origin() ?? 'http://localhost').replace(/\/+$/, '');
    const key = (await this.o.provenance?.key()) ?? null;
    if (!key) this.o.log.warn('no publishing key: the build\'s provenance is recorded unsigned (run `morphux keys init`)');
    return {
      origin, key, vm: o.vm ?? null, started_on: o.started_at ?? null, finished_on: o.finished_at ?? null,
      builder_id: `${origin}/builders/${by.worker ? `worker/${encodeURIComponent(by.worker)}` : 'embedded'}`,
    };
  }

  async finish(job: BuildJobRef, claim: Pick<BuildClaim, 'info' | 'resolved' | 'attempt'>, o: BuildOutcome, by: BuildReporter = {}): Promise<Retry | void> {
    if (isRebuild(job)) return this.finishRebuild(job, claim, o);
    const { store, arches } = this.o;
    const { info, resolved, attempt } = claim;
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch });
    // a result from a worker that was given up for dead arrives too late: another attempt owns the build
    const current = (s: SubmissionStatus) => {
      const b = s.builds?.[job.arch];
      if (!b || b.state !== 'building' || b.attempts !== attempt) {
        throw new MorphuxError('conflict', `pkgid ${job.pkgid} ${job.arch}: attempt ${attempt} is not the current build (${b?.state ?? 'none'}, attempt ${b?.attempts ?? 0})`, { pkgid: job.pkgid, arch: job.arch, attempt });
      }
    };
    if (o.reason === 'infrastructure' && attempt < this.o.maxAttempts) {
      const delayMs = (this.o.retryDelayMs ?? 2000) * 2 ** (attempt - 1);
      log.warn({ message: o.message, attempt, retry_in_ms: delayMs }, 'infrastructure failure; the build will be retried');
      await updateStatus(store, job.pkgid, {
        message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): infrastructure failure, queued again`,
        actor: 'builder',
        change: (s) => {
          current(s);
          s.builds = { ...s.builds, [job.arch]: archEntry({ state: 'queued', attempts: attempt, message: `retrying after an infrastructure failure: ${o.message}` }) };
          mergeArchStatus(s, arches);
        },
      });
      return { delayMs };
    }
    const m = o.measurements;
    const good = o.state === 'good' && o.binariesArchive ? o.binariesArchive : null;
    const provenance = good ? await this.provenanceRun(by, o) : null;
    // the rebuild check's durable job goes in with the good build; on the queue once committed
    const check = !!good && rebuildWanted(this.o.rebuild ?? { when: 'none', sample_rate: 0 }, job.pkgid, job.arch);
    await updateStatus(store, job.pkgid, {
      message: `build ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch}): ${o.state}${o.reason ? ` (${o.reason})` : ''}`,
      actor: 'builder',
      change: (s) => {
        current(s);
        s.builds = {
          ...s.builds,
          [job.arch]: archEntry({
            state: o.state, reason: o.reason, message: o.message, attempts: attempt, resolved_dependencies: resolved,
            build: m ? { ...m, resolved_dependencies: resolved, phases: { ...o.phases } } : null,
            ...(check ? { rebuild: queuedRebuild(nowIso()) } : {}),
          }),
        };
        mergeArchStatus(s, arches);
      },
      report: { reporter: 'builder', kind: 'builder', status: o.state === 'good' ? 'ok' : 'failed', arch: job.arch, reason: o.reason, message: o.message, logFile: o.logFile },
      binaries: good && provenance ? { arch: job.arch, archive: good, manifest: { pkgid: job.pkgid, arch: job.arch, files: o.installed }, provenance } : undefined,
    });
    if (check) await this.queueRebuild(jobOf(job.pkgid, job.arch, 'rebuild'));
  }

  /** Puts a rebuild job on the queue; when that fails, it waits in status.json for start-up's reconcile. */
  async queueRebuild(job: BuildJobRef): Promise<void> {
    await this.o.enqueue?.(job).catch((err: unknown) => this.o.log.error({ err, pkgid: job.pkgid, arch: job.arch }, 'cannot queue the rebuild check; it is queued again at start-up'));
  }

  /**
   * Records a rebuild check's end: the verdict of the two manifests compared (a good rebuild), not
   * reproducible (a rebuild whose build step fails: the package does not build in the varied
   * environment), a retry (an infrastructure failure with attempts left), or failed, unchecked
   * (timeout, dependencies, the machinery). The build's own state, files and provenance stay.
   */
  private async finishRebuild(job: BuildJobRef, claim: Pick<BuildClaim, 'info' | 'attempt'>, o: BuildOutcome & { binaries_sha256?: string }): Promise<Retry | void> {
    const { store, arches } = this.o;
    const { info, attempt } = claim;
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch, kind: 'rebuild' });
    const what = `rebuild check of ${info.name} ${info.version} (pkgid ${job.pkgid}, ${job.arch})`;
    const current = (r: RebuildRecord | undefined): RebuildRecord => {
      if (!r || r.state !== 'running' || r.attempts !== attempt) {
        throw new MorphuxError('conflict', `pkgid ${job.pkgid} ${job.arch}: rebuild attempt ${attempt} is not the current check (${r?.state ?? 'none'}, attempt ${r?.attempts ?? 0})`, { pkgid: job.pkgid, arch: job.arch, attempt });
      }
      return r;
    };
    if (o.reason === 'infrastructure' && attempt < this.o.maxAttempts) {
      const delayMs = (this.o.retryDelayMs ?? 2000) * 2 ** (attempt - 1);
      log.warn({ message: o.message, attempt, retry_in_ms: delayMs }, 'infrastructure failure; the rebuild check will be retried');
      await recordRebuild(store, job.pkgid, {
        message: `${what}: infrastructure failure, queued again`, arches,
        change: { [job.arch]: (r: RebuildRecord | undefined) => ({ ...current(r), state: 'queued', message: `retrying after an infrastructure failure: ${o.message}` }) },
      });
      return { delayMs };
    }
    const at = nowIso();
    let change: (r: RebuildRecord | undefined) => RebuildRecord;
    if (o.state === 'good') {
      const dir = storePaths.binaries(job.pkgid, job.arch);
      const first = await store.readJson<{ files?: ManifestFile[] }>(path.posix.join(dir, 'manifest.json'));
      if (!first?.files) throw new MorphuxError('internal', `pkgid ${job.pkgid} ${job.arch}: the good build's manifest is missing`);
      const cmp = compareManifests(first.files, o.installed);
      const [a, b] = await Promise.all([
        fileDigest(store.abs(path.posix.join(dir, 'files.tar.gz'))),
        o.binaries_sha256 ? { sha256: o.binaries_sha256 } : o.binariesArchive ? fileDigest(o.binariesArchive) : null,
      ]);
      const sums = a && b ? { first: a.sha256, second: b.sha256 } : null;
      log.info({ reproducible: cmp.reproducible, differences: cmp.differences.length, same_archive: sums ? sums.first === sums.second : null, phases: o.phases }, 'rebuild check compared');
      change = (r) => doneRebuild(current(r), cmp, at, { environment: current(r).environment, binaries_sha256: sums });
    } else if (o.reason === 'build') {
      change = (r) => ({ ...current(r), state: 'done', reproducible: false, checked_at: at, message: `not reproducible: the rebuild failed: ${o.message}`, differences: [], differences_total: 0 });
    } else {
      change = (r) => ({ ...current(r), state: 'failed', reproducible: null, checked_at: at, message: `the rebuild could not run (${o.reason}): ${o.message}` });
    }
    await recordRebuild(store, job.pkgid, { message: `${what}: ${o.state === 'good' ? 'compared' : o.reason}`, arches, change: { [job.arch]: change } });
  }
}

function archEntry(e: Partial<ArchBuildStatus> & Pick<ArchBuildStatus, 'state' | 'attempts'>): ArchBuildStatus {
  return { reason: null, message: null, resolved_dependencies: [], build: null, updated_at: nowIso(), ...e };
}
