// The store's one write path: a change is one commit; a failed change leaves nothing; a change
// written but never committed (a crash) is rolled back when the store is opened again; pkgids are
// distinct under concurrent transactions.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/config/logger.js';
import { allocatePkgid } from '../../src/store/allocate-pkgid.js';
import { Store } from '../../src/store/store.js';

describe('store transactions', () => {
  let dir: string;
  let store: Store;
  const open = async () => {
    const s = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await s.open();
    return s;
  };
  const commits = async () => Number((await execa('git', ['rev-list', '--count', 'HEAD'], { cwd: store.root })).stdout);
  const status = async () => (await execa('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: store.root })).stdout;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'store-tx-'));
    store = await open();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('commits each change once, authored by the actor', async () => {
    const n = await commits();
    await store.transact('add a', 'alice', async (tx) => { await tx.writeJson('a/x.json', { a: 1 }); await tx.write('a/y.txt', 'y'); });
    expect(await commits()).to.equal(n + 1);
    const author = (await execa('git', ['log', '-1', '--format=%an'], { cwd: store.root })).stdout;
    expect(author).to.equal('alice');
    expect(await status()).to.equal('');
  });

  it('leaves nothing behind when a change fails half-way', async () => {
    const n = await commits();
    const err = await store.transact('half', 'alice', async (tx) => {
      await tx.write('b/one.txt', '1');
      throw new Error('boom');
    }).catch((e) => e);
    expect(err).to.be.instanceOf(Error);
    expect(existsSync(path.join(store.root, 'b/one.txt'))).to.equal(false);
    expect(await commits()).to.equal(n);
    expect(await status()).to.equal('');
  });

  it('rolls back, on open, what a crash left written but not committed', async () => {
    await store.transact('keep', 'alice', async (tx) => tx.write('keep.txt', 'kept'));
    // what a SIGKILL between the writes and the commit leaves: new files, a changed file, a lock
    await mkdir(path.join(store.root, 'port/portpkgs/01/00'), { recursive: true });
    await writeFile(path.join(store.root, 'port/portpkgs/01/00/half.json'), '{"half":');
    await writeFile(path.join(store.root, 'keep.txt'), 'changed');
    await writeFile(path.join(store.root, '.git/index.lock'), '');
    store = await open();
    expect(await status()).to.equal('');
    expect(await readFile(path.join(store.root, 'keep.txt'), 'utf8')).to.equal('kept');
    expect(existsSync(path.join(store.root, 'port/portpkgs/01/00/half.json'))).to.equal(false);
  });

  it('hands out distinct pkgids to concurrent transactions, across two Store objects', async () => {
    const other = await open();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? store : other).transact(`alloc ${i}`, 'alice', async (tx) => {
        const id = await allocatePkgid(store.stateDir);
        await tx.write(`ids/${id}`, String(i));
        return id;
      })));
    expect(new Set(ids).size).to.equal(20);
    expect(Math.min(...ids)).to.equal(1);
    expect(await status()).to.equal('');
  });
});
