// A process killed in the middle of a store change (test/unit/store-transactions.test.ts): it
// opens the store at DATA, runs one change that replaces a file, removes one, places a new
// submission-like folder and writes a file with an odd name, prints "written" and waits for its
// SIGKILL before the commit.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { Store } from '../../src/store/tree/store.js';

const data = process.argv[2]!;
const store = new Store({ root: path.join(data, 'store'), stateDir: path.join(data, 'state'), tmpDir: path.join(data, 'tmp'), log: silentLogger });
await store.open();
await store.transact('never committed', 'alice', async (tx) => {
  await tx.write('keep.txt', 'changed');
  await tx.remove('gone.txt');
  const dir = path.join(store.tmpDir, 'new-folder');
  await mkdir(path.join(dir, 'meta'), { recursive: true });
  await writeFile(path.join(dir, 'meta', 'half.json'), '{"half":');
  await tx.placeDir(dir, 'port/portpkgs/01/00/00000001');
  await tx.write('odd/a*b [c].json', '{}');
  process.stdout.write('written\n');
  await new Promise(() => { /* killed here */ });
});
