// Changes a submission's meta/status.json and its index entry in one commit, optionally with a
// build report (meta/reports/<n>.json + <n>.log) and the built binaries (binaries/<arch>/).
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import type { Arch } from '../config/config-schema.js';
import { updatePortIndex } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store, Tx } from './store.js';
import { nowIso, type BuildReport, type SubmissionInfo, type SubmissionStatus } from './submission-types.js';

export interface StatusChange {
  message: string;
  actor: string;
  change: (status: SubmissionStatus) => void;
  report?: Omit<BuildReport, 'n' | 'pkgid' | 'created_at' | 'log'> & { logFile: string | null };
  binaries?: { arch: Arch; archive: string; manifest: unknown };
}

/** Next free report number n (reports are 1.json, 2.json, …). */
export async function nextReportNumber(tx: Tx, pkgid: number): Promise<number> {
  return tx.nextNumber(storePaths.reports(pkgid));
}

export async function updateStatus(store: Store, pkgid: number, c: StatusChange): Promise<SubmissionStatus> {
  return store.transact(c.message, c.actor, async (tx) => {
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    const status = await store.readJson<SubmissionStatus>(storePaths.status(pkgid));
    if (!info || !status) throw new MorphuxError('not_found', `no submission ${pkgid}`);
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
    if (c.binaries) {
      const dir = storePaths.binaries(pkgid, c.binaries.arch);
      await mkdir(tx.abs(dir), { recursive: true });
      tx.touched(path.posix.join(dir, 'files.tar.gz'));
      await copyFile(c.binaries.archive, tx.abs(path.posix.join(dir, 'files.tar.gz')));
      await tx.writeJson(path.posix.join(dir, 'manifest.json'), c.binaries.manifest);
    }
    await updatePortIndex(tx, info.name, (ix) => {
      const e = ix.submissions.find((s) => s.pkgid === pkgid);
      if (e) {
        e.state = status.state;
        e.reason = status.reason;
        e.updated_at = status.updated_at;
      }
    });
    return status;
  }, { group: true });
}
