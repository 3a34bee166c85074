// src/repos against real git in a temp dir: creating repos, their hooks, reading files and
// ancestry at commits, archives and version branch heads. Commits are made with plumbing.
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { list as tarList } from 'tar';
import { Readable } from 'node:stream';
import { archiveCommit } from '../../src/repos/archive-commit.js';
import { createRepo, listRepos, repoExists } from '../../src/repos/create-repo.js';
import { versionBranchHeads } from '../../src/repos/list-branches.js';
import { commitTime, isAncestor, readFileAtCommit } from '../../src/repos/read-at-commit.js';
import { repoDir } from '../../src/repos/repo-paths.js';
import { runGit } from '../../src/lib/git.js';
import { refusal } from '../support/error-codes.js';

const ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_AUTHOR_DATE: '1700000000 +0000', GIT_COMMITTER_DATE: '1700000000 +0000' };

/** A commit of `files` (flat names) on top of `parent`, made with plumbing (no hooks run). */
async function commit(gitdir: string, files: Record<string, string>, parent?: string, message = 'c'): Promise<string> {
  const g = (args: string[], input?: string) => runGit(['--git-dir', gitdir, ...args], { input, env: ENV }).then((r) => r.stdout.toString().trim());
  const entries: string[] = [];
  for (const [name, text] of Object.entries(files)) entries.push(`100644 blob ${await g(['hash-object', '-w', '--stdin'], text)}\t${name}`);
  const tree = await g(['mktree'], entries.join('\n') + '\n');
  return g(['commit-tree', tree, '-m', message, ...(parent ? ['-p', parent] : [])]);
}

describe('repos (real git)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'morphux-repos-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('repoDir keeps every name inside the root', async () => {
    expect(repoDir(root, 'hello')).to.equal(path.join(root, 'hello.git'));
    for (const bad of ['..', '../x', 'a/b', '%2e%2e', 'Hello', '', 'x.git', '.hidden']) expect(() => repoDir(root, bad), bad).to.throw().with.property('code', 'invalid_name');
  });

  it('creates a bare repo with hooks and config, once', async () => {
    const dir = await createRepo(root, 'hello');
    expect(dir).to.equal(path.join(root, 'hello.git'));
    expect(await repoExists(root, 'hello')).to.equal(true);
    for (const hook of ['pre-receive', 'post-receive']) expect((await stat(path.join(dir, 'hooks', hook))).mode & 0o777).to.equal(0o755);
    const cfg = async (key: string) => (await runGit(['--git-dir', dir, 'config', key])).stdout.toString().trim();
    expect(await cfg('core.bare')).to.equal('true');
    expect(await cfg('receive.denyNonFastForwards')).to.equal('false');
    expect(await cfg('http.receivepack')).to.equal('true');
    expect((await refusal(createRepo(root, 'hello'))).code).to.equal('already_exists');
    expect((await refusal(createRepo(root, '../evil'))).code).to.equal('invalid_name');
    expect(await readdir(root)).to.deep.equal(['hello.git']); // no temp dirs left behind
    await createRepo(root, 'abc');
    await mkdir(path.join(root, 'not a repo.git'));
    expect(await listRepos(root)).to.deep.equal(['abc', 'hello']);
    expect(await repoExists(root, 'nope')).to.equal(false);
    expect(await repoExists(root, '..')).to.equal(false);
  });

  it('refuses a push that does not come through the Morphux server', async () => {
    const work = path.join(root, 'work');
    await execa('git', ['init', '-q', work]);
    await execa('git', ['-C', work, 'commit', '-q', '--allow-empty', '-m', 'x'], { env: ENV });
    const r = await execa('git', ['-C', work, 'push', repoDir(root, 'hello'), 'HEAD:refs/heads/master'], { reject: false, env: { MORPHUX_HOOK_SCRIPT: '' } });
    expect(r.exitCode).to.not.equal(0);
    expect(r.stderr).to.match(/remote: Morphux: pushes are accepted only through the Morphux server/);
  });

  describe('reading commits', () => {
    let gitdir: string;
    let c1: string;
    let c2: string;
    let other: string;
    before(async () => {
      gitdir = repoDir(root, 'hello');
      c1 = await commit(gitdir, { 'package.json': '{"name":"hello","version":"1.0"}', Makefile: 'all:\n', '.gitattributes': 'Makefile export-ignore\n' });
      c2 = await commit(gitdir, { 'package.json': '{"name":"hello","version":"1.1"}' }, c1);
      other = await commit(gitdir, { README: 'x' }, undefined, 'unrelated');
      for (const [ref, c] of [['version-1.0', c1], ['version-1.1', c2], ['version-1.10', c2], ['master', other], ['version-', other]] as const) {
        await runGit(['--git-dir', gitdir, 'update-ref', `refs/heads/${ref}`, c]);
      }
    });

    it('reads a file at a commit, null when absent or not a file', async () => {
      expect((await readFileAtCommit(gitdir, c2, 'package.json'))?.toString()).to.equal('{"name":"hello","version":"1.1"}');
      expect(await readFileAtCommit(gitdir, other, 'package.json')).to.equal(null);
      expect(await readFileAtCommit(gitdir, 'f'.repeat(40), 'package.json')).to.equal(null);
      expect((await refusal(readFileAtCommit(gitdir, 'HEAD', 'package.json'))).code).to.equal('bad_request');
    });

    it('refuses quarantine paths outside the repo', async () => {
      expect((await refusal(readFileAtCommit(gitdir, c1, 'package.json', { GIT_OBJECT_DIRECTORY: os.tmpdir() }))).code).to.equal('bad_request');
      expect((await refusal(readFileAtCommit(gitdir, c1, 'package.json', { GIT_OBJECT_DIRECTORY: `${gitdir}/objects/../../abc.git/objects` }))).code).to.equal('bad_request');
      const ok = await readFileAtCommit(gitdir, c1, 'package.json', { GIT_OBJECT_DIRECTORY: path.join(gitdir, 'objects') });
      expect(ok).to.not.equal(null);
    });

    it('tells ancestors apart', async () => {
      expect(await isAncestor(gitdir, c1, c2)).to.equal(true);
      expect(await isAncestor(gitdir, c2, c1)).to.equal(false);
      expect(await isAncestor(gitdir, c1, other)).to.equal(false);
    });

    it('archives the whole tree at the root, the same bytes every time', async () => {
      const tgz = await archiveCommit(gitdir, c1);
      const names: string[] = [];
      await new Promise<void>((resolve, reject) => {
        Readable.from([tgz]).pipe(tarList({ onReadEntry: (e) => names.push(e.path) })).on('finish', resolve).on('error', reject);
      });
      expect(names.sort()).to.deep.equal(['.gitattributes', 'Makefile', 'package.json']); // export-ignore has no say
      expect((await archiveCommit(gitdir, c1)).equals(tgz)).to.equal(true);
    });

    it('reads a commit\'s time: a loose one in process (no git run), a packed one through git', async () => {
      const g = (args: string[], input?: string) => runGit(['--git-dir', gitdir, ...args], { input, env: { ...ENV, GIT_COMMITTER_DATE: '1712345678 +0200' } }).then((r) => r.stdout.toString().trim());
      const timed = await g(['commit-tree', await g(['mktree'], ''), '-m', 'timed']);
      const loose = path.join(gitdir, 'objects', timed.slice(0, 2), timed.slice(2));
      expect(existsSync(loose)).to.equal(true);
      const savedPath = process.env.PATH;
      process.env.PATH = '/nonexistent';
      try {
        expect(await commitTime(gitdir, timed)).to.equal(1712345678);
      } finally {
        process.env.PATH = savedPath;
      }
      await runGit(['--git-dir', gitdir, 'update-ref', 'refs/heads/timed', timed]);
      await runGit(['--git-dir', gitdir, 'repack', '-a', '-d', '-q']);
      await runGit(['--git-dir', gitdir, 'prune-packed']);
      expect(existsSync(loose)).to.equal(false);
      expect(await commitTime(gitdir, timed)).to.equal(1712345678);
      expect(await commitTime(gitdir, c1)).to.equal(1700000000);
    });

    it('lists version branch heads in version order', async () => {
      expect(await versionBranchHeads(gitdir)).to.deep.equal([
        { ref: 'refs/heads/version-1.0', version: '1.0', commit: c1 },
        { ref: 'refs/heads/version-1.1', version: '1.1', commit: c2 },
        { ref: 'refs/heads/version-1.10', version: '1.10', commit: c2 },
      ]);
    });
  });
});
