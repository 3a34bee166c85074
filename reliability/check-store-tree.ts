// What a reader of the store could see that it must not: files written but not committed (against
// HEAD), temp files left by an interrupted atomic write, JSON that does not parse (half-written),
// and pkgid folders that are incomplete or misplaced. Walks the whole working tree (not .git).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { portpkgDir, storePaths } from '../src/store/layout/store-paths.js';
import { uncommittedChanges } from '../src/store/tree/store-recovery.js';

export interface TreeProblem {
  kind: 'uncommitted' | 'temp_file' | 'bad_json' | 'incomplete' | 'misplaced';
  path: string;
  message: string;
}

export interface TreeReport {
  problems: TreeProblem[];
  files: number;
  jsonFiles: number;
  /** pkgids of the submission folders found */
  pkgids: number[];
}

/** Every file of the store's working tree (not .git), relative to its root. */
export async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (p === '.git') continue;
    if (e.isDirectory()) out.push(...(await walk(root, p)));
    else out.push(p);
  }
  return out;
}

export async function checkStoreTree(storeRoot: string): Promise<TreeReport> {
  const problems: TreeProblem[] = [];
  for (const line of (await uncommittedChanges(storeRoot)).split('\n').filter(Boolean)) {
    problems.push({ kind: 'uncommitted', path: line.slice(3), message: `differs from HEAD (${line.slice(0, 2).trim()})` });
  }
  const files = await walk(storeRoot);
  const fileSet = new Set(files);
  let jsonFiles = 0;
  const pkgDirs = new Set<string>();
  for (const f of files) {
    const base = path.posix.basename(f);
    if (/\.tmp$/.test(base) || /^\.[^/]+\.[0-9a-f]{12}\.tmp$/.test(base)) problems.push({ kind: 'temp_file', path: f, message: 'left by an interrupted write' });
    if (base.endsWith('.json')) {
      jsonFiles++;
      try {
        JSON.parse(await readFile(path.join(storeRoot, f), 'utf8'));
      } catch (e) {
        problems.push({ kind: 'bad_json', path: f, message: (e as Error).message });
      }
    }
    const m = /^port\/portpkgs\/([^/]+)\/([^/]+)\/([^/]+)\//.exec(f);
    if (m) pkgDirs.add(`port/portpkgs/${m[1]}/${m[2]}/${m[3]}`);
  }
  const pkgids: number[] = [];
  for (const dir of [...pkgDirs].sort()) {
    const id = /^[0-9]{8}$/.test(path.posix.basename(dir)) ? Number(path.posix.basename(dir)) : 0;
    if (!id || portpkgDir(id) !== dir) {
      problems.push({ kind: 'misplaced', path: dir, message: 'not a pkgid folder where its pkgid belongs' });
      continue;
    }
    pkgids.push(id);
    for (const need of [storePaths.portpkgTgz(id), `${storePaths.unpacked(id)}/package.json`, storePaths.submissionInfo(id), storePaths.status(id)]) {
      if (!fileSet.has(need)) problems.push({ kind: 'incomplete', path: need, message: 'missing from a submission folder' });
    }
  }
  return { problems, files: files.length, jsonFiles, pkgids: pkgids.sort((a, b) => a - b) };
}
