// Changes a submission's meta/status.json and its index entry in one commit, optionally with a
// build report (meta/reports/<n>.json + <n>.log) and the built binaries (binaries/<arch>/:
// files.tar.gz, manifest.json {pkgid, name, version, arch, files}, and the build's signed
// provenance, provenance.dsse.json, made from what this commit writes). The entry's `builds`
// (indexed-builds.ts: measurements, the archive's size and sha256, the manifest's sha256 as
// written) and its rebuild facts (reproducible, rebuild_pending) are derived the way reindex
// derives them, in the same commit.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import type { Arch } from '../../domain/arch.js';
import { bytesDigest, deriveBuilds, fileDigest, type BinariesDigests } from '../layout/indexed-builds.js';
import { readPortIndex, setDerivedTail, updatePortIndex } from '../layout/port-index.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store, Tx } from '../tree/store.js';
import { PROVENANCE_FILE, type ProvenanceRun } from '../../domain/provenance-statement.js';
import { provenanceFile } from './build-provenance.js';
import { nowIso, type BuildReport, type SubmissionInfo, type SubmissionStatus } from '../../domain/submission.js';

export interface StatusChange {
  message: string;
  actor: string;
  change: (status: SubmissionStatus) => void;
  report?: Omit<BuildReport, 'n' | 'pkgid' | 'created_at' | 'log'> & { logFile: string | null };
  /** a good build's binaries; `provenance`: the run's facts its signed provenance is made with
   *  (build-provenance.ts: binaries/<arch>/provenance.dsse.json, in the same commit) */
  binaries?: { arch: Arch; archive: string; manifest: unknown; provenance: ProvenanceRun };
}

/** Next free report number n (reports are 1.json, 2.json, …). */
export async function nextReportNumber(tx: Tx, pkgid: number): Promise<number> {
  return tx.nextNumber(storePaths.reports(pkgid));
}

export async function updateStatus(store: Store, pkgid: number, c: StatusChange): Promise<SubmissionStatus> {
  // the archive is the builder's file, never changed: hashed before the store's lock is taken
  const archive = c.binaries ? await fileDigest(c.binaries.archive) : null;
  if (c.binaries && !archive) throw new MorphuxError('internal', `pkgid ${pkgid}: cannot read the binaries archive ${c.binaries.archive}`);
  return store.transact(c.message, c.actor, async (tx) => {
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    const status = await store.readJson<SubmissionStatus>(storePaths.status(pkgid));
    if (!info || !status) throw new MorphuxError('not_found', `no submission ${pkgid}`);
    const before = c.binaries ? status.builds?.[c.binaries.arch] : undefined;
    c.change(status);
    status.updated_at = nowIso();
    await tx.writeJson(storePaths.status(pkgid), status);
    if (c.report) {
      const n = await nextReportNumber(tx, pkgid);
      const { logFile, ...rest } = c.report;
      const report: BuildReport = { ...rest, n, pkgid, created_at: status.updated_at, log: logFile ? `${n}.log` : null };
      if (logFile) await tx.write(storePaths.reportLog(pkgid, n), await readFile(logFile));
      await tx.writeJson(storePaths.report(pkgid, n), report);
    }
    const fresh = new Map<string, BinariesDigests>();
    if (c.binaries) {
      const dir = storePaths.binaries(pkgid, c.binaries.arch);
      await mkdir(tx.abs(dir), { recursive: true });
      tx.touched(path.posix.join(dir, 'files.tar.gz'));
      await copyFile(c.binaries.archive, tx.abs(path.posix.join(dir, 'files.tar.gz')));
      // the manifest names its submission (docs/install-plan.md); what the builder gave is kept
      const manifest = { pkgid, name: info.name, version: info.version, arch: c.binaries.arch, ...(c.binaries.manifest as object) };
      const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
      await tx.write(path.posix.join(dir, 'manifest.json'), bytes);
      const manifestSha256 = bytesDigest(bytes).sha256;
      fresh.set(c.binaries.arch, { binaries: archive!, manifest_sha256: manifestSha256 });
      await tx.write(path.posix.join(dir, PROVENANCE_FILE), await provenanceFile(store, {
        pkgid, arch: c.binaries.arch, info, status, before, binaries_sha256: archive!.sha256, manifest_sha256: manifestSha256, run: c.binaries.provenance,
      }));
    }
    const known = (await readPortIndex(store, info.name))?.submissions.find((s) => s.pkgid === pkgid)?.builds;
    const builds = await deriveBuilds(tx.abs(storePaths.portpkgDir(pkgid)), status, { known, fresh });
    await updatePortIndex(tx, info.name, (ix) => {
      const e = ix.submissions.find((s) => s.pkgid === pkgid);
      if (e) {
        e.state = status.state;
        e.reason = status.reason;
        e.updated_at = status.updated_at;
        e.dependencies ??= info.dependencies ?? {}; // an entry written before the field
        setDerivedTail(e, builds, status);
      }
    });
    return status;
  }, { group: true });
}
