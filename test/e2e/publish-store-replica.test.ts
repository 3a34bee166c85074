// The store as a mirror source: a `git clone` of BASE/store.git is a full replica, and a later
// `git pull` brings it up to date with new submissions and their builds (binaries included).
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { git } from '../support/git-client.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('publish: the store as a mirror source (git clone BASE/store.git, then git pull)', function () {
  this.timeout(180_000);
  let s: TestServer;
  let dir: string;

  before(async () => {
    s = await startTestServer({ worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-replica-'));
  });
  after(async () => {
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a pull brings the replica to the server store\'s HEAD, new submissions and binaries included', async () => {
    const who = await maintainer(s, 'rep');
    const first = await goodSubmission(s, who, 'rep', '1.0', { 'usr/bin/rep': 'one\n' });
    const replica = path.join(dir, 'store');
    expect((await git(dir, 'clone', '-q', `${s.url}/store.git`, replica)).code).to.equal(0);
    expect(existsSync(path.join(replica, storePaths.binaries(first, 'x86_64'), 'files.tar.gz'))).to.equal(true);

    const second = await goodSubmission(s, who, 'rep', '2.0', { 'usr/bin/rep': 'two\n' });
    expect(existsSync(path.join(replica, storePaths.submissionInfo(second)))).to.equal(false);
    const pull = await git(replica, 'pull', '-q', '--ff-only');
    expect(pull.code, pull.out).to.equal(0);
    expect((await git(replica, 'rev-parse', 'HEAD')).out.trim()).to.equal(await s.ctx.store.head());
    const info = JSON.parse(await readFile(path.join(replica, storePaths.submissionInfo(second)), 'utf8'));
    expect(info).to.include({ pkgid: second, name: 'rep', version: '2.0' });
    expect(JSON.parse(await readFile(path.join(replica, storePaths.status(second)), 'utf8')).state).to.equal('good');
    expect(existsSync(path.join(replica, storePaths.binaries(second, 'x86_64'), 'files.tar.gz'))).to.equal(true);
  });
});
