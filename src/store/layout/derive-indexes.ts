// Derives every package's flat index from the tree alone (submission_info.json, status.json and
// the meta documents of each pkgid folder): the source of truth that reindex writes and fsck
// compares. deriveDocsMeta is also what meta changes use to refresh an entry, so both agree; the
// failed-report count, which needs every report read, is kept up by the change that adds one.
// The package's face (description, category, tags) comes from its newest submission made by a
// maintainer or an admin (takeFace, shared with create-submission.ts), each entry carrying the
// submitter role recorded in submission_info.json (roleOf: older files have none). Each entry
// also carries the runtime `dependencies` of its submission_info.json and, for good builds, the
// `builds` an install plan reads (indexed-builds.ts, shared with update-status.ts), and the rebuild
// check's verdict and whether one is pending (rebuildFacts, shared with update-status.ts).
import { readdir } from 'node:fs/promises';
import type { FlagsDoc, TagsDoc, VotesDoc } from './read-submission.js';
import { deriveBuilds } from './indexed-builds.js';
import { emptyPortIndex, rebuildFacts, takeFace, type PortIndex, type PortIndexEntry } from './port-index.js';
import { storePaths } from './store-paths.js';
import { checkPkgid } from '../../domain/names.js';
import type { Store } from '../tree/store.js';
import { roleOf, type BuildReport, type SubmissionInfo, type SubmissionStatus } from '../../domain/submission.js';

export type EntryMeta = Pick<PortIndexEntry, 'stable' | 'tags' | 'votes' | 'failed_reports'>;
export type DocsMeta = Omit<EntryMeta, 'failed_reports'>;

/** The index fields that come from a submission's flags, tags and votes documents (three small reads). */
export async function deriveDocsMeta(store: Store, pkgid: number): Promise<DocsMeta> {
  const [flags, tags, votes] = await Promise.all([
    store.readJson<FlagsDoc>(storePaths.flags(pkgid)),
    store.readJson<TagsDoc>(storePaths.tags(pkgid)),
    store.readJson<VotesDoc>(storePaths.votes(pkgid)),
  ]);
  return {
    stable: flags?.stable ?? false,
    tags: (tags?.tags ?? []).map((t) => t.tag).sort(),
    votes: votes?.voters.length ?? 0,
  };
}

/** User reports with status failed: every report of the submission is read (reindex and fsck). */
export async function countFailedReports(store: Store, pkgid: number): Promise<number> {
  let failed = 0;
  let names: string[] = [];
  try {
    names = await readdir(store.abs(storePaths.reports(pkgid)));
  } catch { /* no reports */ }
  for (const f of names) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    const r = await store.readJson<BuildReport>(storePaths.report(pkgid, Number(m[1])));
    if (r?.kind === 'user' && r.status === 'failed') failed++;
  }
  return failed;
}

/** The index fields that come from a submission's meta documents (flags, tags, votes, user reports). */
export async function deriveEntryMeta(store: Store, pkgid: number): Promise<EntryMeta> {
  return { ...(await deriveDocsMeta(store, pkgid)), failed_reports: await countFailedReports(store, pkgid) };
}

/** Every pkgid folder in the tree, as [pkgid, relative dir]. */
export async function listPortpkgDirs(store: Store): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  const root = storePaths.portpkgsRoot;
  const ls = async (rel: string) => {
    try {
      return (await readdir(store.abs(rel))).sort();
    } catch {
      return [];
    }
  };
  for (const xx of await ls(root)) {
    for (const yy of await ls(`${root}/${xx}`)) {
      for (const id of await ls(`${root}/${xx}/${yy}`)) {
        let pkgid: number;
        try {
          pkgid = checkPkgid(id.replace(/^0+/, ''));
        } catch {
          pkgid = 0;
        }
        out.push([pkgid, `${root}/${xx}/${yy}/${id}`]);
      }
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

export async function deriveIndexes(store: Store): Promise<{ indexes: Map<string, PortIndex>; maxPkgid: number; submissions: number }> {
  const indexes = new Map<string, PortIndex>();
  let maxPkgid = 0;
  let submissions = 0;
  for (const [pkgid, dir] of await listPortpkgDirs(store)) {
    if (!pkgid || dir !== storePaths.portpkgDir(pkgid)) continue;
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    const status = await store.readJson<SubmissionStatus>(storePaths.status(pkgid));
    if (!info || !status) continue;
    const meta = await deriveEntryMeta(store, pkgid);
    const builds = await deriveBuilds(store.abs(dir), status);
    submissions++;
    maxPkgid = Math.max(maxPkgid, pkgid);
    const ix = indexes.get(info.name) ?? emptyPortIndex(info.name);
    indexes.set(info.name, ix);
    const role = roleOf(info);
    takeFace(ix, pkgid, role, info);
    ix.submissions.push({
      pkgid, version: info.version, state: status.state, reason: status.reason, submitter: info.submitter, submitter_role: role,
      submitted_at: info.submitted_at, updated_at: status.updated_at,
      commit: info.source.type === 'git' ? info.source.commit : null,
      stable: meta.stable, tags: meta.tags, votes: meta.votes, failed_reports: meta.failed_reports,
      dependencies: info.dependencies ?? {},
      ...(builds ? { builds } : {}),
      ...rebuildFacts(status),
    });
  }
  return { indexes, maxPkgid, submissions };
}
