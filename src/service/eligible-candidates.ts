// Which submissions a name resolves to, for query URLs and for dependencies: good submissions
// made by the package's maintainers or admins, or the one flagged stable (CONTRACT.md, "HTTP").
// Who made a submission is the role recorded when it was submitted (store/port-index.ts,
// queryEligible), read from the index alone: no lookup of today's maintainers or users.
import type { Candidate } from '../builder/resolve-dependencies.js';
import { compareVersions } from '../domain/version.js';
import { queryEligible, type PortIndexEntry } from '../store/port-index.js';
import { storePaths } from '../store/store-paths.js';
import type { SubmissionInfo } from '../store/submission-types.js';
import type { AppContext } from './app-context.js';

/** What the resolution reads: the catalog alone. Callers may hand over more of the context
 *  (the owners and users these functions once looked up); it is not read. */
export type EligibleContext = Pick<AppContext, 'catalog'> & Partial<AppContext>;

/** Good entries of a package that query URLs may resolve to, best first (version, then pkgid). */
export async function eligibleEntries(ctx: EligibleContext, name: string): Promise<PortIndexEntry[]> {
  const ix = await ctx.catalog.get(name);
  if (!ix) return [];
  return ix.submissions
    .filter((e) => e.state === 'good' && queryEligible(e))
    .sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
}

export async function eligibleCandidates(ctx: EligibleContext & Pick<AppContext, 'store'>, name: string): Promise<Candidate[]> {
  const entries = await eligibleEntries(ctx, name);
  const out: Candidate[] = [];
  for (const e of entries) {
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(e.pkgid));
    if (info) out.push({ pkgid: e.pkgid, name, version: e.version, dependencies: info.dependencies ?? {} });
  }
  return out;
}
