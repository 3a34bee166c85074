// Whether the indexes of a data dir are what a fresh `morphux store reindex` makes: the store and
// state are copied, the real command runs on the copy, and the index files of both are compared
// byte for byte (every file on either side).
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storePaths } from '../src/store/layout/store-paths.js';
import { morphux } from '../test/support/server-process.js';

export interface ReindexComparison {
  equal: boolean;
  files: number;
  /** index files that differ, or exist on one side only */
  differences: string[];
  /** what `morphux store reindex` printed */
  output: string;
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else out.push(p);
  }
  return out;
}

export async function reindexCopy(data: string): Promise<ReindexComparison> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'morphux-reindex-copy-'));
  try {
    for (const d of ['store', 'state']) await cp(path.join(data, d), path.join(copy, d), { recursive: true, verbatimSymlinks: true });
    await rm(path.join(copy, 'state', 'store.lock'), { recursive: true, force: true }); // a live server's lock is not the copy's
    const output = (await morphux(['store', 'reindex', '--data', copy])).trim();
    const mine = path.join(data, 'store', storePaths.portIndexRoot);
    const fresh = path.join(copy, 'store', storePaths.portIndexRoot);
    const names = [...new Set([...(await listFiles(mine)), ...(await listFiles(fresh))])].sort();
    const differences: string[] = [];
    for (const n of names) {
      const a = await readFile(path.join(mine, n)).catch(() => null);
      const b = await readFile(path.join(fresh, n)).catch(() => null);
      if (!a || !b || !a.equals(b)) differences.push(`${storePaths.portIndexRoot}/${n}${!a ? ' (missing here)' : !b ? ' (not made by reindex)' : ''}`);
    }
    return { equal: differences.length === 0, files: names.length, differences, output };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}
