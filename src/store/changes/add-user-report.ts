// A user's build report on a submission (mpwa's submitreport): meta/reports/<n>.json with kind
// "user", status ok or failed, the arch, and the log text beside it as <n>.log. One store commit.
import { changeMeta } from './change-meta.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nextReportNumber } from './update-status.js';
import { nowIso, type BuildReport } from '../../domain/submission.js';

export interface UserReport {
  status: 'ok' | 'failed';
  arch: string;
  message: string | null;
  log: string | null;
}

export async function addUserReport(store: Store, pkgid: number, actor: string, r: UserReport): Promise<BuildReport> {
  return changeMeta(store, pkgid, `report ${r.status} on ${pkgid} (${r.arch})`, actor, async (tx) => {
    const n = await nextReportNumber(tx, pkgid);
    const report: BuildReport = {
      n, pkgid, reporter: actor, kind: 'user', status: r.status, arch: r.arch, reason: null,
      message: r.message, created_at: nowIso(), log: r.log !== null ? `${n}.log` : null,
    };
    if (r.log !== null) await tx.write(storePaths.reportLog(pkgid, n), r.log);
    await tx.writeJson(storePaths.report(pkgid, n), report);
    if (report.status === 'failed') tx.failedReportAdded();
    return report;
  });
}
