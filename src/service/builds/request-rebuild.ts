// Asks for a good submission's rebuild check on demand (`morphux rebuild PKGID`): every configured
// arch's check queued in one store commit (its durable job; a verdict already there is replaced
// when the new one comes), whatever builder.rebuild says. A submission that is not good has no
// build to check: not_rebuildable. The caller puts the jobs on a queue or runs them.
import { MorphuxError } from '../../domain/errors.js';
import { queuedRebuild } from '../../domain/rebuild.js';
import { nowIso, type SubmissionInfo, type SubmissionStatus } from '../../domain/submission.js';
import { jobOf, type BuildJobRef } from '../../domain/worker-protocol.js';
import { recordRebuild } from '../../store/changes/record-rebuild.js';
import { storePaths } from '../../store/layout/store-paths.js';
import type { AppContext } from '../app-context.js';

export async function requestRebuild(ctx: Pick<AppContext, 'store' | 'config'>, pkgid: number): Promise<BuildJobRef[]> {
  const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
  const status = await ctx.store.readJson<SubmissionStatus>(storePaths.status(pkgid));
  if (!info || !status) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
  if (status.state !== 'good') {
    throw new MorphuxError('not_rebuildable', `submission ${pkgid} is ${status.state}: only a good build can be checked by a rebuild`, { pkgid, state: status.state });
  }
  const arches = ctx.config.builder.arches;
  const at = nowIso();
  await recordRebuild(ctx.store, pkgid, {
    message: `rebuild check of ${info.name} ${info.version} (pkgid ${pkgid}) requested`,
    arches,
    change: Object.fromEntries(arches.map((a) => [a, () => queuedRebuild(at)])),
  });
  return arches.map((a) => jobOf(pkgid, a, 'rebuild'));
}
