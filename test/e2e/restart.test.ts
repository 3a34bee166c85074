// A crash loses no acknowledged work: the server (its whole process group, VMs included) is
// SIGKILLed as soon as a push says "queued"; started again on the same data dir, the submission
// is built once to good, with exactly one builder report, and the store passes fsck.
import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { portpkgDir } from '../../src/store/layout/store-paths.js';
import { fixtureRepo, git, pushUrl, queuedLine } from '../support/git-client.js';
import { freePort, morphux, ServerProcess } from '../support/server-process.js';
import { api, waitState } from '../support/test-server.js';

describe('restart: a queued build survives a SIGKILL of the server', function () {
  this.timeout(600_000);
  let data = '';
  let server: ServerProcess;

  before(async () => {
    data = await mkdtemp(path.join(os.tmpdir(), 'morphux-restart-'));
    server = new ServerProcess(data, await freePort());
  });
  after(async () => {
    await server?.kill();
    await rm(data, { recursive: true, force: true });
  });

  it('builds the submission after the restart, exactly once', async () => {
    const admin = (await morphux(['user', 'add', 'root', '--admin', '--data', data])).trim();
    expect(admin).to.match(/^\S+$/);
    await server.start();
    const alice = (await api(server.url, 'POST', '/api/v1/users', { name: 'alice' }, admin)).json.token;
    expect((await api(server.url, 'POST', '/api/v1/repos', { name: 'hello' }, alice)).status).to.equal(201);
    const wc = await fixtureRepo('hello');
    const push = await git(wc, 'push', pushUrl(server.url, 'hello', 'alice', alice), 'HEAD:refs/heads/version-1.0');
    const q = queuedLine(push.out);
    expect(q, push.out).to.not.equal(null);
    await server.kill();

    await server.start();
    const after = await api(server.url, 'GET', `/api/v1/pkg/${q!.pkgid}`);
    expect(after.status).to.equal(200);
    const view = await waitState(server.url, q!.pkgid, 540_000);
    expect(view.status.state).to.equal('good');
    await new Promise((r) => setTimeout(r, 3000)); // a second build would show up here
    const again = await api(server.url, 'GET', `/api/v1/pkg/${q!.pkgid}`);
    expect(again.json.status.state).to.equal('good');
    expect(again.json.reports).to.equal(1);
    const reports = (await readdir(path.join(data, 'store', portpkgDir(q!.pkgid), 'meta', 'reports'))).filter((f) => f.endsWith('.json'));
    expect(reports).to.deep.equal(['1.json']);
    await server.kill();
    expect(await morphux(['store', 'fsck', '--data', data])).to.match(/^ok:/m);
  });
});
