// `morphux store fsck`: whether the tree, the indexes and the store's git agree. Problems: a
// change not committed, a pkgid folder incomplete or in the wrong place, a portpkg.tgz whose
// sha256 is not the recorded one, an index that differs from what the tree gives, a broken git.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { runGit } from '../../lib/git.js';
import { deriveIndexes, listPortpkgDirs } from './derive-indexes.js';
import { listIndexedPorts } from './port-index.js';
import { storePaths } from './store-paths.js';
import { uncommittedChanges } from '../tree/store-recovery.js';
import type { Store } from '../tree/store.js';
import type { SubmissionInfo } from '../../domain/submission.js';

export interface FsckProblem {
  code: 'uncommitted' | 'incomplete' | 'misplaced' | 'checksum' | 'index_drift' | 'git';
  path: string;
  message: string;
}

export interface FsckReport {
  ok: boolean;
  submissions: number;
  ports: number;
  problems: FsckProblem[];
}

const sha256File = (file: string) => new Promise<string>((resolve, reject) => {
  const h = createHash('sha256');
  createReadStream(file).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
});

export async function fsckStore(store: Store): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  for (const line of (await uncommittedChanges(store.root)).split('\n').filter(Boolean).slice(0, 50)) {
    problems.push({ code: 'uncommitted', path: line.slice(3), message: `not committed (${line.slice(0, 2).trim()})` });
  }
  const gfsck = await runGit(['fsck', '--no-progress', '--connectivity-only'], { cwd: store.root, reject: false });
  if (gfsck.exitCode !== 0) problems.push({ code: 'git', path: '.git', message: gfsck.stderr.trim().split('\n')[0] });

  for (const [pkgid, dir] of await listPortpkgDirs(store)) {
    if (!pkgid || dir !== storePaths.portpkgDir(pkgid)) {
      problems.push({ code: 'misplaced', path: dir, message: 'not where its pkgid belongs' });
      continue;
    }
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid)).catch(() => null);
    for (const rel of [storePaths.portpkgTgz(pkgid), storePaths.submissionInfo(pkgid), storePaths.status(pkgid)]) {
      if (!(await store.exists(rel))) problems.push({ code: 'incomplete', path: rel, message: 'missing' });
    }
    if (!info) continue;
    if (info.pkgid !== pkgid) problems.push({ code: 'misplaced', path: dir, message: `submission_info says pkgid ${info.pkgid}` });
    const tgz = store.abs(storePaths.portpkgTgz(pkgid));
    const sum = await sha256File(tgz).catch(() => null);
    if (sum && sum !== info.sha256) problems.push({ code: 'checksum', path: storePaths.portpkgTgz(pkgid), message: `sha256 ${sum}, recorded ${info.sha256}` });
  }

  const { indexes, submissions } = await deriveIndexes(store);
  for (const [name, ix] of indexes) {
    const rel = storePaths.portIndex(name);
    const onDisk = await readFile(store.abs(rel), 'utf8').catch(() => null);
    if (onDisk === null) problems.push({ code: 'index_drift', path: rel, message: 'missing' });
    else if (JSON.stringify(JSON.parse(onDisk)) !== JSON.stringify(ix)) problems.push({ code: 'index_drift', path: rel, message: 'differs from the tree (run morphux store reindex)' });
  }
  for (const name of await listIndexedPorts(store)) {
    if (!indexes.has(name)) problems.push({ code: 'index_drift', path: storePaths.portIndex(name), message: 'indexes a package the tree does not have' });
  }
  return { ok: problems.length === 0, submissions, ports: indexes.size, problems };
}
