// The store's git index kept for people (index-keeper.ts): after a sync, `git status` in the store
// is clean and the index holds exactly HEAD's tree — from nothing, from the last synced commit
// (changed, added, removed, odd and executable paths, a symlink), and from a commit it cannot
// compare with; pokes close together make one sync.
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { IndexKeeper } from '../../src/store/tree/index-keeper.js';
import { commitPaths } from '../../src/store/tree/store-commit.js';
import { tempStoreRepo } from '../support/store-repo.js';

const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd })).stdout;

describe('store index keeper', () => {
  let dir: string;
  let root: string;
  let keeper: IndexKeeper;

  beforeEach(async () => {
    ({ dir, root } = await tempStoreRepo('index-keeper-'));
    keeper = new IndexKeeper(root, silentLogger);
  });
  afterEach(async () => {
    await keeper.close();
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (files: Record<string, string>) => {
    for (const [f, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, f)), { recursive: true });
      await writeFile(path.join(root, f), text);
    }
    return commitPaths(root, Object.keys(files), 'change', 'alice <alice@x>');
  };
  /** The index as `mode oid path` lines, and HEAD's tree the same way. */
  const indexAndHead = async () => [
    (await git(root, 'ls-files', '-s', '-z')).split('\0').filter(Boolean).map((l) => l.replace(/ 0\t/, '\t')).sort(),
    (await git(root, 'ls-tree', '-r', '-z', 'HEAD')).split('\0').filter(Boolean).map((l) => l.replace(/ blob /, ' ')).sort(),
  ];
  const statusClean = async () => {
    expect(await git(root, '--no-optional-locks', 'status', '--porcelain')).to.equal('');
    const [index, head] = await indexAndHead();
    expect(index).to.deep.equal(head);
  };

  it('reads the whole tree when there is no index yet', async () => {
    await write({ 'README.md': 'hi\n', 'a/b/c.json': '{}\n' });
    expect(await git(root, '--no-optional-locks', 'status', '--porcelain')).to.not.equal('');
    await keeper.sync();
    await statusClean();
  });

  it('then applies only what changed between the two commits, odd names, modes and links included', async () => {
    await write({ 'README.md': 'hi\n', 'keep.txt': 'same\n', 'gone.txt': 'bye\n', 'dir/old.json': '1\n' });
    await keeper.sync();
    await statusClean();
    await rm(path.join(root, 'gone.txt'));
    await writeFile(path.join(root, 'dir/old.json'), '2\n');
    await mkdir(path.join(root, 'odd'));
    const odd = ['with space.txt', 'tab\there', 'nl\nname', 'ünï.txt'].map((n) => `odd/${n}`);
    for (const n of odd) await writeFile(path.join(root, n), `${n}\n`);
    await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n');
    await chmod(path.join(root, 'run.sh'), 0o755);
    await symlink('keep.txt', path.join(root, 'link'));
    await commitPaths(root, ['gone.txt', 'dir/old.json', ...odd, 'run.sh', 'link'], 'second', 'alice <alice@x>');
    await keeper.sync();
    await statusClean();
    expect(await git(root, 'ls-files', '-s', 'run.sh')).to.match(/^100755 /);
    expect(await git(root, 'ls-files', '-s', 'link')).to.match(/^120000 /);
  });

  it('reads the whole tree again when the commit it last reached is not one git knows', async () => {
    await write({ 'README.md': 'hi\n' });
    await keeper.sync();
    await writeFile(path.join(root, '.git', 'morphux-index-head'), `${'1'.repeat(40)}\n`);
    await write({ 'later.txt': 'x\n' });
    await keeper.sync();
    await statusClean();
  });

  it('syncs once the commits have been quiet a moment', async () => {
    await write({ 'README.md': 'hi\n' });
    keeper.poke();
    await new Promise((r) => setTimeout(r, 600));
    await write({ 'more.txt': 'x\n' });
    keeper.poke(); // the moment starts again
    await new Promise((r) => setTimeout(r, 600));
    expect(await git(root, '--no-optional-locks', 'status', '--porcelain')).to.not.equal('');
    await new Promise((r) => setTimeout(r, 1000));
    await statusClean();
  });
});
