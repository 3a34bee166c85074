// pkgid allocation: 1, 2, 3, … never reused. The counter lives in DATA/state/next-pkgid, written
// durably before the pkgid is used; callers hold the store's lock (inside a transaction), so two
// processes never get the same pkgid. A pkgid whose transaction failed is skipped, not reused.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { atomicWrite } from '../../lib/atomic-write.js';

export async function allocatePkgid(stateDir: string, atLeast = 1): Promise<number> {
  const file = path.join(stateDir, 'next-pkgid');
  let next = 1;
  try {
    next = Number((await readFile(file, 'utf8')).trim());
    if (!Number.isSafeInteger(next) || next < 1) throw new Error(`corrupt pkgid counter ${file}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const pkgid = Math.max(next, atLeast);
  await atomicWrite(file, `${pkgid + 1}\n`);
  return pkgid;
}
