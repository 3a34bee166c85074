// The benchmark store generator (bench/support/generated-store.ts): committed through fast-import
// without git's index, the working tree equal to HEAD, and a tree fsck finds consistent (real
// portpkg.tgz checksums, indexes that agree with the submission folders).
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateStore, installDeps, pkgName } from '../../bench/support/generated-store.js';
import { walk } from '../../reliability/check-store-tree.js';
import { silentLogger } from '../../src/lib/logger.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { Store } from '../../src/store/tree/store.js';
import { inspectPortpkg } from '../../src/portpkg/unpack-portpkg.js';

describe('generated bench store', () => {
  let data: string;
  let root: string;
  const P = 30;
  const S = 4;
  const git = async (...args: string[]) => (await execa('git', args, { cwd: root })).stdout;

  before(async () => {
    data = await mkdtemp(path.join(os.tmpdir(), 'gen-store-'));
    root = path.join(data, 'store');
    await generateStore(data, { packages: P, perPackage: S, folders: P * S - 5 });
  });
  after(() => rm(data, { recursive: true, force: true }));

  it('commits exactly the working tree, without git index', async () => {
    expect(existsSync(path.join(root, '.git', 'index'))).to.equal(false);
    expect(await git('symbolic-ref', 'HEAD')).to.equal('refs/heads/main');
    expect(await git('log', '--format=%an <%ae>|%cn <%ce>')).to.equal('bench <b@b>|bench <b@b>');
    const committed = (await git('ls-tree', '-r', '--name-only', '-z', 'HEAD')).split('\0').filter(Boolean).sort();
    expect(committed).to.deep.equal((await walk(root)).sort());
    const index = path.join(data, 'scratch-index');
    const env = { GIT_INDEX_FILE: index };
    await execa('git', ['read-tree', 'HEAD'], { cwd: root, env });
    expect((await execa('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, env })).stdout).to.equal('');
    expect(await git('config', 'core.fsync')).to.equal('committed,index');
    expect(await readFile(path.join(data, 'state', 'next-pkgid'), 'utf8')).to.equal(`${P * S + 1}\n`);
  });

  it('writes real submission folders and the newest tree of each package', async () => {
    const pkgid = 7; // package 2, its third submission
    const tgz = await readFile(path.join(root, storePaths.portpkgTgz(pkgid)));
    const info = JSON.parse(await readFile(path.join(root, storePaths.submissionInfo(pkgid)), 'utf8'));
    expect(info).to.include({ pkgid, name: pkgName(2), sha256: createHash('sha256').update(tgz).digest('hex'), size: tgz.length });
    expect((await inspectPortpkg(tgz)).manifest).to.not.equal(null);
    expect(JSON.parse(await readFile(path.join(root, storePaths.unpacked(pkgid), 'package.json'), 'utf8'))).to.include({ name: pkgName(2), version: info.version });
    const newest = await readFile(path.join(root, storePaths.unpacked(8), 'package.json'), 'utf8');
    expect(await readFile(path.join(root, storePaths.common(pkgName(2)), 'package.json'), 'utf8')).to.equal(newest);
    expect(existsSync(path.join(root, storePaths.portpkgDir(P * S - 5)))).to.equal(true);
    expect(existsSync(path.join(root, storePaths.portpkgDir(P * S - 4)))).to.equal(false);
  });

  it('passes fsck when every submission has its folder', async () => {
    const all = await mkdtemp(path.join(os.tmpdir(), 'gen-store-all-'));
    try {
      await generateStore(all, { packages: 12, perPackage: 5, folders: 60 });
      const store = new Store({ root: path.join(all, 'store'), stateDir: path.join(all, 'state'), tmpDir: path.join(all, 'tmp'), log: silentLogger });
      const report = await fsckStore(store);
      expect(report.problems).to.deep.equal([]);
      expect(report).to.include({ ok: true, submissions: 60, ports: 12 });
    } finally {
      await rm(all, { recursive: true, force: true });
    }
  });

  it('passes fsck with installable builds: binaries, dependencies and the index entries that describe them', async () => {
    const all = await mkdtemp(path.join(os.tmpdir(), 'gen-store-inst-'));
    try {
      await generateStore(all, { packages: 24, perPackage: 2, folders: 48, installable: true });
      const root = path.join(all, 'store');
      const store = new Store({ root, stateDir: path.join(all, 'state'), tmpDir: path.join(all, 'tmp'), log: silentLogger });
      const report = await fsckStore(store);
      expect(report.problems).to.deep.equal([]);
      expect(report).to.include({ ok: true, submissions: 48, ports: 24 });
      const ix = JSON.parse(await readFile(path.join(root, storePaths.portIndex(pkgName(1))), 'utf8'));
      expect(ix.submissions[0].dependencies).to.deep.equal(installDeps(1, 24, 2));
      expect(Object.keys(ix.submissions[0].dependencies)).to.deep.equal([pkgName(2), pkgName(4)]);
      const archive = await readFile(path.join(root, storePaths.binaries(1, 'x86_64'), 'files.tar.gz'));
      expect(ix.submissions[0].builds.x86_64.binaries).to.deep.equal({ size: archive.length, sha256: createHash('sha256').update(archive).digest('hex') });
      // a failed build (pkgid 10) has no binaries and no builds
      expect(existsSync(path.join(root, storePaths.binaries(10, 'x86_64')))).to.equal(false);
      const five = JSON.parse(await readFile(path.join(root, storePaths.portIndex(pkgName(5))), 'utf8'));
      expect(five.submissions.find((e: any) => e.pkgid === 10)).to.not.have.property('builds');
    } finally {
      await rm(all, { recursive: true, force: true });
    }
  });
});
