// Where a query URL points (CONTRACT.md, "HTTP"): /port/<name> to the best eligible good
// submission, /port/<name>/stable to the current stable one, /port/<name>/<version> to the highest
// eligible good pkgid of that version. Either a pkgid or why there is none.
import { isPackageName } from '../domain/names.js';
import { compareVersions } from '../domain/version.js';
import { eligibleEntries, type EligibleContext } from './eligible-candidates.js';

export type QueryTarget = { pkgid: number } | { none: string };

/** which: null for /port/<name>, 'stable', or a version. */
export async function queryTarget(ctx: EligibleContext, name: string, which: string | null): Promise<QueryTarget> {
  if (!isPackageName(name)) return { none: `no package ${JSON.stringify(name.slice(0, 80))}` };
  if (which === null) {
    const best = (await eligibleEntries(ctx, name))[0];
    return best ? { pkgid: best.pkgid } : { none: `${name} has no good submission yet` };
  }
  if (which === 'stable') {
    const ix = await ctx.catalog.get(name);
    const s = ix?.submissions.filter((e) => e.stable && e.state === 'good').sort((a, b) => b.pkgid - a.pkgid)[0];
    return s ? { pkgid: s.pkgid } : { none: `${name} has no stable submission` };
  }
  const match = (await eligibleEntries(ctx, name)).filter((e) => compareVersions(e.version, which) === 0).sort((a, b) => b.pkgid - a.pkgid)[0];
  return match ? { pkgid: match.pkgid } : { none: `${name} has no good submission of version ${which.slice(0, 64)}` };
}
