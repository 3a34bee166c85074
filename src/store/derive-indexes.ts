// Derives every package's flat index from the tree alone (submission_info.json, status.json,
// flags.json of each pkgid folder): the source of truth that reindex writes and fsck compares.
import { readdir } from 'node:fs/promises';
import type { FlagsDoc } from './read-submission.js';
import { emptyPortIndex, type PortIndex } from './port-index.js';
import { checkPkgid, storePaths } from './store-paths.js';
import type { Store } from './store.js';
import type { SubmissionInfo, SubmissionStatus } from './submission-types.js';

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
    const flags = await store.readJson<FlagsDoc>(storePaths.flags(pkgid));
    submissions++;
    maxPkgid = Math.max(maxPkgid, pkgid);
    const ix = indexes.get(info.name) ?? emptyPortIndex(info.name);
    indexes.set(info.name, ix);
    ix.description = info.description;
    ix.category = info.category;
    ix.tags = info.tags;
    ix.submissions.push({
      pkgid, version: info.version, state: status.state, reason: status.reason, submitter: info.submitter,
      submitted_at: info.submitted_at, updated_at: status.updated_at,
      commit: info.source.type === 'git' ? info.source.commit : null, stable: flags?.stable ?? false,
    });
  }
  return { indexes, maxPkgid, submissions };
}
