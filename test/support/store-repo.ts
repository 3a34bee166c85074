// A fresh store repository for unit tests: DIR/store, initialised as the store initialises its
// own (store-git.ts), in a new temp folder the caller removes.
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initStoreRepo } from '../../src/store/tree/store-git.js';

export async function tempStoreRepo(prefix: string): Promise<{ dir: string; root: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const root = path.join(dir, 'store');
  await mkdir(root);
  await initStoreRepo(root);
  return { dir, root };
}
