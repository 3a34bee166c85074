// The store's commit through git fast-import (store-commit.ts): the commit holds exactly what the
// working tree holds at the touched paths — as `git add` would have staged it, byte for byte,
// modes and symlinks included — the working tree equals HEAD afterwards, no git index is written,
// and a commit that changes nothing leaves no commit.
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { tempStoreRepo } from '../support/store-repo.js';
import { commitPaths, readHead } from '../../src/store/tree/store-commit.js';
import { uncommittedChanges } from '../../src/store/tree/store-recovery.js';

const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd })).stdout;

describe('store commit (fast-import)', () => {
  let dir: string;
  let root: string;

  beforeEach(async () => {
    ({ dir, root } = await tempStoreRepo('store-commit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** The tree `git add -A` of the same paths would have made, in a scratch index. */
  const treeByGitAdd = async (paths: string[]) => {
    const env = { GIT_INDEX_FILE: path.join(dir, 'scratch-index') };
    await rm(env.GIT_INDEX_FILE, { force: true });
    const head = readHead(root).commit;
    if (head) await execa('git', ['read-tree', `${head}^`], { cwd: root, env }).catch(() => execa('git', ['read-tree', '--empty'], { cwd: root, env }));
    await execa('git', ['add', '-A', '-f', '--', ...paths], { cwd: root, env });
    return (await execa('git', ['write-tree'], { cwd: root, env })).stdout;
  };

  it('commits files, odd names, an executable and a symlink as git add would, and writes no git index', async () => {
    await writeFile(path.join(root, 'README.md'), 'hi\n');
    expect(await commitPaths(root, ['README.md'], 'first', 'alice <alice@x>')).to.equal(true);
    const names = ['plain.json', 'with space.txt', 'quote".txt', 'back\\slash', 'tab\there', 'ünï.txt', 'nl\nname'];
    await mkdir(path.join(root, 'd/e'), { recursive: true });
    for (const n of names) await writeFile(path.join(root, 'd', n), `${n}\n`);
    await writeFile(path.join(root, 'd/e/run.sh'), '#!/bin/sh\n');
    await chmod(path.join(root, 'd/e/run.sh'), 0o755);
    await symlink('../plain.json', path.join(root, 'd/e/link'));
    await writeFile(path.join(root, 'd/e/bin'), Buffer.from([0, 1, 2, 255, 10, 13]));
    const paths = ['d'];
    expect(await commitPaths(root, paths, 'second\n\n- a body line\n', 'bob <bob@users.morphux.invalid>')).to.equal(true);
    expect(await git(root, 'rev-parse', 'HEAD^{tree}')).to.equal(await treeByGitAdd(paths));
    expect(await uncommittedChanges(root)).to.equal('');
    expect(existsSync(path.join(root, '.git', 'index'))).to.equal(false);
    expect((await git(root, 'log', '-1', '--format=%an <%ae>|%cn|%B')).trimEnd()).to.equal('bob <bob@users.morphux.invalid>|Morphux store|second\n\n- a body line');
    expect(await git(root, 'rev-list', '--count', 'HEAD')).to.equal('2');
    expect((await execa('git', ['fsck', '--strict'], { cwd: root })).exitCode).to.equal(0);
  });

  it('replaces a folder as a whole, removes what was removed, and makes no commit when nothing changed', async () => {
    await mkdir(path.join(root, 'f/sub'), { recursive: true });
    for (const n of ['a', 'b', 'sub/c']) await writeFile(path.join(root, 'f', n), n);
    await writeFile(path.join(root, 'gone.json'), '{}');
    await commitPaths(root, ['f', 'gone.json'], 'add', 'alice <a@x>');
    await rm(path.join(root, 'f'), { recursive: true });
    await mkdir(path.join(root, 'f'));
    await writeFile(path.join(root, 'f/a'), 'new a');
    await rm(path.join(root, 'gone.json'));
    expect(await commitPaths(root, ['f', 'gone.json'], 'replace', 'alice <a@x>')).to.equal(true);
    expect((await git(root, 'ls-tree', '-r', '--name-only', 'HEAD')).split('\n')).to.deep.equal(['f/a']);
    expect(await git(root, 'show', 'HEAD:f/a')).to.equal('new a');
    expect(await uncommittedChanges(root)).to.equal('');
    const head = await git(root, 'rev-parse', 'HEAD');
    expect(await commitPaths(root, ['f', 'gone.json'], 'nothing', 'alice <a@x>')).to.equal(false);
    expect(await git(root, 'rev-parse', 'HEAD')).to.equal(head);
  });

  it('commits while another git holds the index lock (an operator\'s git status)', async () => {
    await writeFile(path.join(root, 'a.json'), '1');
    await commitPaths(root, ['a.json'], 'a', 'a <a@x>');
    await writeFile(path.join(root, 'a.json'), '2');
    await writeFile(path.join(root, '.git/index.lock'), '');
    expect(await commitPaths(root, ['a.json'], 'a again', 'a <a@x>')).to.equal(true);
    expect(await git(root, 'show', 'HEAD:a.json')).to.equal('2');
    expect(await uncommittedChanges(root)).to.equal('');
  });

  it('reads HEAD from a packed ref too', async () => {
    await writeFile(path.join(root, 'x'), 'x');
    await commitPaths(root, ['x'], 'x', 'a <a@x>');
    const head = await git(root, 'rev-parse', 'HEAD');
    await git(root, 'pack-refs', '--all');
    expect(readHead(root)).to.deep.equal({ ref: 'refs/heads/main', commit: head });
    await writeFile(path.join(root, 'y'), 'y');
    expect(await commitPaths(root, ['y'], 'y', 'a <a@x>')).to.equal(true);
    expect(await git(root, 'rev-parse', 'HEAD^')).to.equal(head);
  });
});
