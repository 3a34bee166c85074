// Where a query URL points (CONTRACT.md, "HTTP"): /port/<name> to the best eligible good
// submission, /port/<name>/stable to the current stable one, /port/<name>/<version> to the highest
// eligible good pkgid of that version. Either a pkgid or why there is none.
import { isPackageName } from '../domain/names.js';
import { pickEntry, type EligibleContext } from './eligible-candidates.js';

export type QueryTarget = { pkgid: number } | { none: string };

/** which: null for /port/<name>, 'stable', or a version (the rule itself: pickEntry). */
export async function queryTarget(ctx: EligibleContext, name: string, which: string | null): Promise<QueryTarget> {
  if (!isPackageName(name)) return { none: `no package ${JSON.stringify(name.slice(0, 80))}` };
  const picked = pickEntry(await ctx.catalog.get(name), name, which);
  return 'entry' in picked ? { pkgid: picked.entry.pkgid } : picked;
}
