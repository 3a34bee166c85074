// `morphux store reindex`: rewrites every flat index from the tree in one commit, drops index
// files of packages the tree no longer has, and moves the pkgid counter past the highest pkgid.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { atomicWrite } from '../../lib/atomic-write.js';
import { deriveIndexes } from './derive-indexes.js';
import { listIndexedPorts } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store } from '../tree/store.js';

export async function reindexStore(store: Store): Promise<{ ports: number; submissions: number; changed: boolean }> {
  return store.transact('store: reindex', 'morphux', async (tx) => {
    const { indexes, maxPkgid, submissions } = await deriveIndexes(store);
    let changed = false;
    for (const [name, ix] of indexes) {
      const rel = storePaths.portIndex(name);
      const text = JSON.stringify(ix, null, 2) + '\n';
      const old = await readFile(tx.abs(rel), 'utf8').catch(() => null);
      if (old !== text) {
        await tx.write(rel, text);
        changed = true;
      }
    }
    for (const name of await listIndexedPorts(store)) {
      if (!indexes.has(name)) {
        await tx.remove(storePaths.portIndex(name));
        changed = true;
      }
    }
    // the counter only moves forward
    const counter = path.join(store.stateDir, 'next-pkgid');
    const next = Number((await readFile(counter, 'utf8').catch(() => '1')).trim()) || 1;
    if (next <= maxPkgid) await atomicWrite(counter, `${maxPkgid + 1}\n`);
    return { ports: indexes.size, submissions, changed };
  });
}
