// Which submissions a name resolves to, for query URLs, dependencies and install plans: good
// submissions made by the package's maintainers or admins, or the one flagged stable (CONTRACT.md,
// "HTTP"). Who made a submission is the role recorded when it was submitted (store/port-index.ts,
// queryEligible), read from the index alone: no lookup of today's maintainers or users.
// pickEntry is the /port/<name>[/<which>] rule over one package's index: query-target.ts (the
// 301s) and install-plan.ts (what a name in a plan resolves to) both call it.
import type { Candidate } from '../domain/resolve-dependencies.js';
import { compareVersions } from '../domain/version.js';
import { queryEligible, type PortIndex, type PortIndexEntry } from '../store/layout/port-index.js';
import { storePaths } from '../store/layout/store-paths.js';
import type { SubmissionInfo } from '../domain/submission.js';
import type { Store } from '../store/tree/store.js';

/** Where package indexes come from: the catalog (or a stand-in with its `get`, in tests). */
export interface IndexSource {
  get(name: string): Promise<PortIndex | null>;
}

/** What the resolution reads: the catalog alone. */
export interface EligibleContext {
  catalog: IndexSource;
}

/** Good entries of a package's index that query URLs may resolve to, best first (version, then pkgid). */
export function eligibleOf(ix: PortIndex | null): PortIndexEntry[] {
  if (!ix) return [];
  return ix.submissions
    .filter((e) => e.state === 'good' && queryEligible(e))
    .sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
}

/** Good entries of a package that query URLs may resolve to, best first (version, then pkgid). */
export async function eligibleEntries(ctx: EligibleContext, name: string): Promise<PortIndexEntry[]> {
  return eligibleOf(await ctx.catalog.get(name));
}

export type Picked = { entry: PortIndexEntry } | { none: string };

/**
 * The /port rule over one package's index (CONTRACT.md, "HTTP"). which: null for /port/<name>
 * (the best eligible good submission), 'stable' (the current stable one), or a version (the highest
 * eligible good pkgid of that version). The entry, or why there is none.
 */
export function pickEntry(ix: PortIndex | null, name: string, which: string | null): Picked {
  if (which === null) {
    const best = eligibleOf(ix)[0];
    return best ? { entry: best } : { none: `${name} has no good submission yet` };
  }
  if (which === 'stable') {
    const s = ix?.submissions.filter((e) => e.stable && e.state === 'good').sort((a, b) => b.pkgid - a.pkgid)[0];
    return s ? { entry: s } : { none: `${name} has no stable submission` };
  }
  const match = eligibleOf(ix).filter((e) => compareVersions(e.version, which) === 0).sort((a, b) => b.pkgid - a.pkgid)[0];
  return match ? { entry: match } : { none: `${name} has no good submission of version ${which.slice(0, 64)}` };
}

/** A name's candidates for dependency resolution, best first, with their runtime dependencies as
 *  the index carries them; an entry written before the index had them is read from its
 *  submission_info.json (reindex fills them in). */
export async function eligibleCandidates(ctx: EligibleContext & { store: Pick<Store, 'readJson'> }, name: string): Promise<Candidate[]> {
  const entries = await eligibleEntries(ctx, name);
  const out: Candidate[] = [];
  for (const e of entries) {
    let dependencies = e.dependencies;
    if (!dependencies) {
      const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(e.pkgid));
      if (!info) continue;
      dependencies = info.dependencies ?? {};
    }
    out.push({ pkgid: e.pkgid, name, version: e.version, dependencies });
  }
  return out;
}
