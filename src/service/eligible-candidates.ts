// Which submissions a name resolves to, for query URLs and for dependencies: good submissions
// made by the package's maintainers or admins, or the one flagged stable (CONTRACT.md, "HTTP").
import type { Candidate } from '../builder/resolve-dependencies.js';
import { compareVersions } from '../domain/version.js';
import type { PortIndexEntry } from '../store/port-index.js';
import { storePaths } from '../store/store-paths.js';
import type { SubmissionInfo } from '../store/submission-types.js';
import type { AppContext } from './app-context.js';

/** Good entries of a package that query URLs may resolve to, best first (version, then pkgid). */
export async function eligibleEntries(ctx: Pick<AppContext, 'catalog' | 'owners' | 'users'>, name: string): Promise<PortIndexEntry[]> {
  const ix = await ctx.catalog.get(name);
  if (!ix) return [];
  const owners = await ctx.owners.get(name);
  const maintainers = new Set(owners?.maintainers ?? []);
  const out: PortIndexEntry[] = [];
  for (const e of ix.submissions) {
    if (e.state !== 'good') continue;
    if (e.stable || maintainers.has(e.submitter) || (await ctx.users.get(e.submitter))?.admin) out.push(e);
  }
  return out.sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
}

export async function eligibleCandidates(ctx: Pick<AppContext, 'store' | 'catalog' | 'owners' | 'users'>, name: string): Promise<Candidate[]> {
  const entries = await eligibleEntries(ctx, name);
  const out: Candidate[] = [];
  for (const e of entries) {
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(e.pkgid));
    if (info) out.push({ pkgid: e.pkgid, name, version: e.version, dependencies: info.dependencies ?? {} });
  }
  return out;
}
