// The walking skeleton end to end on a real server: users and repos over the API, pushes with the
// real git client (each refusal of the push rules, 401 without auth), a version-branch push that
// becomes a submission built in a real QEMU VM, then everything the contract says about reading it.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, cp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { portpkgDir } from '../../src/store/layout/store-paths.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { api, newUser, startTestServer, waitState, type TestServer } from '../support/test-server.js';
import { commitAll, editManifest, fixtureRepo, git, pushUrl, queuedLine, refusalsIn, remoteHead } from '../support/git-client.js';

describe('walking skeleton: push → submission → VM build → store → HTTP', function () {
  this.timeout(600_000);
  let s: TestServer;
  let alice: string;
  let bob: string;

  before(async () => {
    s = await startTestServer({ worker: true });
    alice = await newUser(s, 'alice');
    bob = await newUser(s, 'bob');
    const r = await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, alice);
    expect(r.status).to.equal(201);
  });
  after(async () => s && (await s.close()));

  it('refuses to create a repo without a token, with a bad name, or twice', async () => {
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'x' })).status).to.equal(401);
    const bad = await api(s.url, 'POST', '/api/v1/repos', { name: '../evil' }, alice);
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal('invalid_name');
    const twice = await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, bob);
    expect(twice.status).to.equal(409);
    expect(twice.json.error.code).to.equal('already_exists');
  });

  it('only admins create users', async () => {
    expect((await api(s.url, 'POST', '/api/v1/users', { name: 'carol' }, alice)).status).to.equal(403);
    expect((await api(s.url, 'POST', '/api/v1/users', { name: 'carol' })).status).to.equal(401);
  });

  it('clones anonymously and refuses a push without credentials (401, nothing written)', async () => {
    const wc = await fixtureRepo('hello', (p) => { p.version = '0.1'; });
    const r = await git(wc, 'push', pushUrl(s.url, 'hello'), 'HEAD:refs/heads/version-0.1');
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/401|Authentication failed|could not read Username/i);
    expect(await remoteHead(s.url, 'hello', 'version-0.1')).to.equal('');
    const other = await git(wc, 'push', pushUrl(s.url, 'hello', 'bob', bob), 'HEAD:refs/heads/version-0.1');
    expect(other.code).to.not.equal(0);
    expect(await remoteHead(s.url, 'hello', 'version-0.1')).to.equal('');
  });

  const refusals: Array<[string, (dir: string) => Promise<void>, string, string]> = [
    ['no package.json', async (d) => rm(path.join(d, 'package.json')), 'version-1.1', 'invalid_manifest'],
    ['invalid JSON', async (d) => writeFile(path.join(d, 'package.json'), '{ nope'), 'version-1.1', 'invalid_manifest'],
    ['a name that is not the repo', async (d) => editManifest(d, (p) => { p.name = 'other'; p.version = '1.1'; }), 'version-1.1', 'name_mismatch'],
    ['a version that is not the branch', async (d) => editManifest(d, (p) => { p.version = '2.0'; }), 'version-1.0', 'version_mismatch'],
  ];
  for (const [what, change, branch, code] of refusals) {
    it(`refuses a version-branch push with ${what}: a remote: line with its code, ${code}`, async () => {
      const wc = await fixtureRepo('hello');
      await change(wc);
      await commitAll(wc, what);
      const before = await api(s.url, 'GET', '/api/v1/ports/hello');
      const r = await git(wc, 'push', pushUrl(s.url, 'hello', 'alice', alice), `HEAD:refs/heads/${branch}`);
      expect(r.code).to.not.equal(0);
      expect(refusalsIn(r.out).map((x) => x.code), r.out).to.deep.equal([code]);
      expect(queuedLine(r.out)).to.equal(null);
      expect(await remoteHead(s.url, 'hello', branch)).to.equal('');
      expect((await api(s.url, 'GET', '/api/v1/ports/hello')).json.submissions).to.deep.equal(before.json.submissions);
    });
  }

  it('accepts other branches and builds nothing', async () => {
    const wc = await fixtureRepo('hello');
    const r = await git(wc, 'push', pushUrl(s.url, 'hello', 'alice', alice), 'HEAD:refs/heads/master');
    expect(r.code).to.equal(0);
    expect(queuedLine(r.out)).to.equal(null);
    expect((await api(s.url, 'GET', '/api/v1/ports/hello')).json.submissions).to.have.length(0);
  });

  let pkgid = 0;
  let wc1 = '';
  it('turns a good version-branch push into a queued submission', async () => {
    wc1 = await fixtureRepo('hello');
    const r = await git(wc1, 'push', pushUrl(s.url, 'hello', 'alice', alice), 'HEAD:refs/heads/version-1.0');
    expect(r.code, r.out).to.equal(0);
    const q = queuedLine(r.out);
    expect(q, r.out).to.not.equal(null);
    pkgid = q!.pkgid;
    expect(q!.pkgurl).to.equal(`${s.url}/pkg/${pkgid}`);
    const ports = await api(s.url, 'GET', '/api/v1/ports/hello');
    expect(ports.json.submissions.map((x: any) => x.pkgid)).to.deep.equal([pkgid]);
  });

  it('refuses a rewrite and a deletion of the version branch', async () => {
    const head = await remoteHead(s.url, 'hello', 'version-1.0');
    await writeFile(path.join(wc1, 'README'), 'rewritten\n');
    await commitAll(wc1, 'rewrite', '--amend');
    const force = await git(wc1, 'push', '--force', pushUrl(s.url, 'hello', 'alice', alice), 'HEAD:refs/heads/version-1.0');
    expect(force.code).to.not.equal(0);
    expect(refusalsIn(force.out).map((x) => x.code), force.out).to.deep.equal(['non_fast_forward']);
    const del = await git(wc1, 'push', pushUrl(s.url, 'hello', 'alice', alice), ':refs/heads/version-1.0');
    expect(del.code).to.not.equal(0);
    expect(refusalsIn(del.out).map((x) => x.code), del.out).to.deep.equal(['branch_deletion']);
    expect(await remoteHead(s.url, 'hello', 'version-1.0')).to.equal(head);
  });

  let view: any;
  it('builds it in a QEMU VM to good, with measurements and the builder report', async () => {
    view = await waitState(s.url, pkgid, 540_000);
    expect(view.status.state, JSON.stringify(view.status)).to.equal('good');
    const b = view.status.build;
    expect(b.arch).to.equal('x86_64');
    expect(b.installed_size).to.be.greaterThan(0);
    expect(b.compile_seconds).to.be.greaterThan(0);
    expect(b.files).to.include.members(['/usr/bin/hello', '/usr/share/doc/hello/README']);
    expect(b.binaries).to.deep.equal(['/usr/bin/hello']);
    expect(b.modified_files).to.be.an('array');
    expect(view.reports).to.equal(1);
    const reports = await api(s.url, 'GET', `/api/v1/pkg/${pkgid}/reports`);
    expect(reports.json.items[0]).to.include({ reporter: 'builder', status: 'ok', arch: 'x86_64' });
    const dir = path.join(s.data, 'store', portpkgDir(pkgid));
    expect(await readFile(path.join(dir, 'meta/reports/1.log'), 'utf8')).to.match(/hello/);
    const log = await fetch(`${s.url}/api/v1/pkg/${pkgid}/log`);
    expect(await log.text()).to.match(/hello/);
  });

  it('answers GET /api/v1/pkg/N as the contract says', () => {
    expect(view).to.have.keys('submission', 'status', 'flags', 'tags', 'votes', 'comments', 'reports');
    expect(view.submission).to.include({ pkgid, name: 'hello', version: '1.0', submitter: 'alice' });
    expect(view.submission.source).to.include({ type: 'git', repo: 'hello' });
    expect(view.submission.submitted_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('serves /pkg/N (sha256 as recorded, strong ETag, 304) and redirects /port/hello to it', async () => {
    const res = await fetch(`${s.url}/pkg/${pkgid}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/gzip');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).to.equal(view.submission.sha256);
    const etag = res.headers.get('etag')!;
    expect(etag).to.match(/^"[0-9a-f]{64}"$/);
    expect((await fetch(`${s.url}/pkg/${pkgid}`, { headers: { 'if-none-match': etag } })).status).to.equal(304);
    const port = await fetch(`${s.url}/port/hello`, { redirect: 'manual' });
    expect(port.status).to.equal(301);
    expect(port.headers.get('location')).to.equal(`/pkg/${pkgid}`);
    expect((await fetch(`${s.url}/port/hello/1.0`, { redirect: 'manual' })).headers.get('location')).to.equal(`/pkg/${pkgid}`);
    expect((await fetch(`${s.url}/port/hello/9.9`, { redirect: 'manual' })).status).to.equal(404);
    expect((await fetch(`${s.url}/port/nosuch`, { redirect: 'manual' })).status).to.equal(404);
    expect((await api(s.url, 'GET', '/api/v1/pkg/999')).json.error.code).to.equal('not_found');
  });

  it('serves the store tree over HTTP and as a clonable store.git, and fsck agrees', async () => {
    const dir = portpkgDir(pkgid);
    for (const f of ['portpkg.tgz', 'unpacked/package.json', 'unpacked/hello.c', 'meta/submission_info.json', 'meta/status.json', 'binaries/x86_64/files.tar.gz']) {
      const r = await fetch(`${s.url}/store/${dir}/${f}`);
      expect(r.status, f).to.equal(200);
    }
    const st = await (await fetch(`${s.url}/store/${dir}/meta/status.json`)).json();
    expect(st.state).to.equal('good');
    expect((await fetch(`${s.url}/store/${dir}/../../../../../etc/passwd`)).status).to.equal(404);
    const clone = await mkdtemp(path.join(os.tmpdir(), 'store-clone-'));
    const r = await git(os.tmpdir(), 'clone', '-q', `${s.url}/store.git`, clone);
    expect(r.code, r.out).to.equal(0);
    const ours = await execa('git', ['rev-parse', 'HEAD^{tree}'], { cwd: path.join(s.data, 'store') });
    const theirs = await execa('git', ['rev-parse', 'HEAD^{tree}'], { cwd: clone });
    expect(theirs.stdout).to.equal(ours.stdout);
    expect(JSON.parse(await readFile(path.join(clone, dir, 'meta/status.json'), 'utf8')).state).to.equal('good');
    const push = await git(clone, 'push', `${s.url}/store.git`, 'HEAD:refs/heads/evil');
    expect(push.code).to.not.equal(0);
    const report = await s.ctx.store.locked(() => fsckStore(s.ctx.store));
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    await rm(clone, { recursive: true, force: true });
  });
});
