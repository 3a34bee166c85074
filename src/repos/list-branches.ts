// The version branches of a bare repo and the commits they point at, read with isomorphic-git.
import fs from 'node:fs';
import git from 'isomorphic-git';
import { compareVersions, isVersion, versionOfRef } from '../domain/version.js';

export interface VersionBranchHead {
  ref: string;
  version: string;
  commit: string;
}

/** Every refs/heads/version-<v> with a valid <v>, oldest version first. */
export async function versionBranchHeads(gitdir: string): Promise<VersionBranchHead[]> {
  const branches = await git.listBranches({ fs, gitdir });
  const heads: VersionBranchHead[] = [];
  for (const branch of branches) {
    const ref = `refs/heads/${branch}`;
    const version = versionOfRef(ref);
    if (version === null || !isVersion(version)) continue;
    heads.push({ ref, version, commit: await git.resolveRef({ fs, gitdir, ref }) });
  }
  return heads.sort((a, b) => compareVersions(a.version, b.version) || a.ref.localeCompare(b.ref));
}
