// Submit over HTTP and the meta actions end to end, the app called in-process (no VM: builds are marked
// good with the documented updateStatus shortcut): flag stable (moves, history, unflag), user
// reports, comments, tags, votes; each one store commit by the acting user; indexes in step
// (fsck clean, reindex changes nothing); query sorts and filters; strong ETags and 304s.
import { expect } from 'chai';
import { execa } from 'execa';
import path from 'node:path';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { reindexStore } from '../../src/store/layout/reindex-store.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { goodSubmission, markBuilt, packFixture, upload } from '../support/portpkgs.js';
import { openInProcess, type InProcess } from '../support/in-process.js';
import { storeCommits } from '../support/refusals.js';
import { newUser, redirectOf } from '../support/test-server.js';

describe('API: submit over HTTP and the meta actions', function () {
  this.timeout(120_000);
  let s: InProcess;
  let alice: string;
  let bob: string;
  const head = async () => (await execa('git', ['log', '-1', '--format=%H %an %s'], { cwd: path.join(s.data, 'store') })).stdout.split(' ');
  const commits = () => storeCommits(s.data);
  const location = (p: string) => redirectOf(s, p);

  before(async () => {
    s = await openInProcess();
    alice = await newUser(s, 'alice');
    bob = await newUser(s, 'bob');
  });
  after(async () => s && (await s.close()));

  let p1 = 0;
  it('POST /submit: any registered user; a new package makes the uploader its maintainer; source upload', async () => {
    const r = await upload(s, await packFixture('hello'), alice, '?filename=hello-1.0.tgz');
    expect(r.status).to.equal(201);
    p1 = r.json.pkgid;
    expect(r.json.pkgurl).to.equal(`${s.url}/pkg/${p1}`);
    expect(r.json.submission).to.include({ name: 'hello', version: '1.0', submitter: 'alice' });
    expect(r.json.submission.source).to.deep.equal({ type: 'upload', filename: 'hello-1.0.tgz' });
    expect((await s.api('GET', '/api/v1/ports/hello')).json.maintainers).to.deep.equal(['alice']);
    expect((await s.api('GET', `/api/v1/pkg/${p1}`)).json.status.state).to.equal('queued');
    expect(await head()).to.include('alice');
    expect(s.ctx.queue.waiting().map((j) => j.pkgid)).to.include(p1);
  });

  let p2 = 0;
  it('a registered non-maintainer\'s upload is built and listed, but no query URL resolves to it until flagged stable', async () => {
    await markBuilt(s, p1, 'good');
    const r = await upload(s, await packFixture('hello', (p) => { p.version = '1.1'; }), bob);
    expect(r.status).to.equal(201);
    p2 = r.json.pkgid;
    await markBuilt(s, p2, 'good');
    expect((await s.api('GET', '/api/v1/ports/hello')).json.maintainers).to.deep.equal(['alice']);
    expect(await location('/port/hello')).to.equal(`/pkg/${p1}`);
    expect(await location('/port/hello/1.1')).to.equal(404);
    expect(await location('/port/hello/stable')).to.equal(404);
  });

  it('flag stable: one store commit by the maintainer; one holder; moving it keeps the history; unflag', async () => {
    const before = await commits();
    const r = await s.api('POST', `/api/v1/pkg/${p2}/flags/stable`, undefined, alice);
    expect(r.status).to.equal(200);
    expect(r.json.flags.stable).to.equal(true);
    expect(await commits()).to.equal(before + 1);
    expect((await head())[1]).to.equal('alice');
    expect(await location('/port/hello/stable')).to.equal(`/pkg/${p2}`);
    expect(await location('/port/hello/1.1')).to.equal(`/pkg/${p2}`);
    expect(await location('/port/hello')).to.equal(`/pkg/${p2}`);
    // again: nothing changes, no commit
    expect((await s.api('POST', `/api/v1/pkg/${p2}/flags/stable`, undefined, alice)).status).to.equal(200);
    expect(await commits()).to.equal(before + 1);
    // move it to p1 (admin): p2 loses it in the same commit
    expect((await s.api('POST', `/api/v1/pkg/${p1}/flags/stable`, undefined, s.adminToken)).status).to.equal(200);
    expect(await commits()).to.equal(before + 2);
    const v2 = (await s.api('GET', `/api/v1/pkg/${p2}`)).json;
    expect(v2.flags.stable).to.equal(false);
    expect(v2.flags.history.map((h: any) => h.action)).to.deep.equal(['set', 'cleared']);
    const port = (await s.api('GET', '/api/v1/ports/hello')).json;
    expect(port.submissions.filter((x: any) => x.stable).map((x: any) => x.pkgid)).to.deep.equal([p1]);
    expect(port.stable_pkgid).to.equal(p1);
    expect(await location('/port/hello/stable')).to.equal(`/pkg/${p1}`);
    expect(await location('/port/hello/1.1')).to.equal(404);
    // unflag
    expect((await s.api('DELETE', `/api/v1/pkg/${p1}/flags/stable`, undefined, alice)).json.flags.stable).to.equal(false);
    expect(await location('/port/hello/stable')).to.equal(404);
  });

  it('refuses to flag a submission that is not good (409) and writes nothing', async () => {
    const r = await upload(s, await packFixture('hello', (p) => { p.version = '2.0'; }), alice);
    const before = await commits();
    const f = await s.api('POST', `/api/v1/pkg/${r.json.pkgid}/flags/stable`, undefined, alice);
    expect(f.status).to.equal(409);
    expect(f.json.error.code).to.equal('conflict');
    expect(await commits()).to.equal(before);
  });

  it('user build reports: ok or failed, arch, log text; listed with the builder\'s; counted as failures', async () => {
    const r = await s.api('POST', `/api/v1/pkg/${p1}/reports`, { status: 'failed', arch: 'x86_64', log: 'make: *** [all] Error 1\n' }, bob);
    expect(r.status).to.equal(201);
    expect(r.json).to.include({ reporter: 'bob', kind: 'user', status: 'failed', arch: 'x86_64', pkgid: p1 });
    expect((await head())[1]).to.equal('bob');
    const log = await s.request(`/store/${storePaths.reportLog(p1, r.json.n)}`);
    expect(await log.text()).to.equal('make: *** [all] Error 1\n');
    const ok = await s.api('POST', `/api/v1/pkg/${p1}/reports`, { status: 'ok', arch: 'aarch64' }, alice);
    expect(ok.status).to.equal(201);
    expect(ok.json.log).to.equal(null);
    const list = (await s.api('GET', `/api/v1/pkg/${p1}/reports`)).json;
    expect(list.items.map((i: any) => [i.reporter, i.status])).to.deep.equal([['bob', 'failed'], ['alice', 'ok']]);
    expect(list.total).to.equal(2);
    expect((await s.api('GET', `/api/v1/pkg/${p1}`)).json.reports).to.equal(2);
  });

  it('comments, tags (add, remove) and votes (one per user) show in GET pkg/<pkgid>', async () => {
    expect((await s.api('POST', `/api/v1/pkg/${p1}/comments`, { text: 'works for me' }, bob)).status).to.equal(201);
    expect((await s.api('POST', `/api/v1/pkg/${p1}/comments`, { text: 'thanks' }, alice)).status).to.equal(201);
    const comments = (await s.api('GET', `/api/v1/pkg/${p1}/comments?limit=1`)).json;
    expect(comments.items.map((c: any) => [c.n, c.author, c.text])).to.deep.equal([[1, 'bob', 'works for me']]);
    expect(comments.total).to.equal(2);
    expect(comments.next).to.be.a('string');
    const page2 = (await s.api('GET', `/api/v1/pkg/${p1}/comments?limit=1&next=${comments.next}`)).json;
    expect(page2.items.map((c: any) => c.author)).to.deep.equal(['alice']);
    expect(page2.next).to.equal(null);

    expect((await s.api('PUT', `/api/v1/pkg/${p1}/tags/cli`, undefined, bob)).json.tags).to.deep.equal(['cli']);
    expect((await s.api('PUT', `/api/v1/pkg/${p1}/tags/tested`, undefined, bob)).json.tags).to.deep.equal(['cli', 'tested']);
    expect((await s.api('DELETE', `/api/v1/pkg/${p1}/tags/cli`, undefined, bob)).json.tags).to.deep.equal(['tested']);

    const before = await commits();
    for (const t of [bob, bob, alice]) expect((await s.api('PUT', `/api/v1/pkg/${p1}/vote`, undefined, t)).status).to.equal(200);
    expect(await commits()).to.equal(before + 2); // bob's second vote changes nothing
    const view = (await s.api('GET', `/api/v1/pkg/${p1}`)).json;
    expect(view).to.include({ votes: 2, comments: 2 });
    expect(view.tags).to.deep.equal(['tested']);
    const w = await s.api('DELETE', `/api/v1/pkg/${p1}/vote`, undefined, alice);
    expect(w.json).to.include({ votes: 1, voted: false });
  });

  it('GET ports: q, tag (user tags too), category, stable, submitter; sorted by name, votes, failures; paged', async () => {
    await goodSubmission(s, alice, 'zlib', '1.2');
    const failing = await goodSubmission(s, bob, 'aaa-broken', '0.1', 'failed');
    const q = async (qs: string) => (await s.api('GET', `/api/v1/ports?${qs}`)).json;
    expect((await q('')).items.map((i: any) => i.name)).to.deep.equal(['aaa-broken', 'hello', 'zlib']);
    expect((await q('q=ZLI')).items.map((i: any) => i.name)).to.deep.equal(['zlib']);
    expect((await q('tag=tested')).items.map((i: any) => i.name)).to.deep.equal(['hello']);
    expect((await q('submitter=bob')).items.map((i: any) => i.name)).to.deep.equal(['aaa-broken', 'hello']);
    expect((await q('stable=true')).items).to.deep.equal([]);
    await s.api('POST', `/api/v1/pkg/${p1}/flags/stable`, undefined, alice);
    expect((await q('stable=true')).items.map((i: any) => i.name)).to.deep.equal(['hello']);
    expect((await q('stable=false')).items.map((i: any) => i.name)).to.deep.equal(['aaa-broken', 'zlib']);
    expect((await q('sort=votes')).items[0].name).to.equal('hello');
    // hello: one failed user report; aaa-broken: one failed build plus two failed reports
    for (let i = 0; i < 2; i++) await s.api('POST', `/api/v1/pkg/${failing}/reports`, { status: 'failed', arch: 'x86_64' }, alice);
    const byFailures = await q('sort=failures');
    expect(byFailures.items.map((i: any) => [i.name, i.failures])).to.deep.equal([['aaa-broken', 3], ['hello', 1], ['zlib', 0]]);
    const page = await q('limit=2');
    expect(page.items).to.have.length(2);
    expect(page.total).to.equal(3);
    expect((await q(`limit=2&next=${page.next}`)).items.map((i: any) => i.name)).to.deep.equal(['zlib']);
    expect((await s.api('GET', '/api/v1/ports?category=utils')).json.items.length).to.be.greaterThan(0);
  });

  it('strong ETags and 304 on every GET; the flat index file changes in the same commit as the change', async () => {
    for (const p of ['/api/v1/ports', '/api/v1/ports/hello', `/api/v1/pkg/${p1}`, `/api/v1/pkg/${p1}/reports`, `/api/v1/pkg/${p1}/comments`, '/store/index/ports/h/hello.json', `/pkg/${p1}`, '/']) {
      const r = await s.request(p);
      const etag = r.headers.get('etag');
      expect(etag, p).to.match(/^"[0-9a-f]{40,64}"$/);
      expect((await s.request(p, { headers: { 'if-none-match': etag! } })).status, p).to.equal(304);
      expect((await s.request(p, { headers: { 'if-none-match': `"nope", ${etag}` } })).status, p).to.equal(304);
    }
    const ix1 = await s.request(`/store/index/ports/h/hello.json`);
    const tag1 = ix1.headers.get('etag')!;
    await s.api('PUT', `/api/v1/pkg/${p1}/vote`, undefined, s.adminToken);
    const changed = await execa('git', ['show', '--name-only', '--format=', 'HEAD'], { cwd: path.join(s.data, 'store') });
    expect(changed.stdout.split('\n')).to.include.members([storePaths.votes(p1), storePaths.portIndex('hello')]);
    const ix2 = await s.request(`/store/index/ports/h/hello.json`, { headers: { 'if-none-match': tag1 } });
    expect(ix2.status).to.equal(200);
    const entry = (await ix2.json()).submissions.find((e: any) => e.pkgid === p1);
    expect(entry).to.include({ stable: true, votes: 2, failed_reports: 1 });
    expect(entry.tags).to.deep.equal(['tested']);
  });

  it('the tree, the indexes and git agree (fsck), and reindex changes nothing', async () => {
    const report = await s.ctx.store.locked(() => fsckStore(s.ctx.store));
    expect(report.problems).to.deep.equal([]);
    expect((await reindexStore(s.ctx.store)).changed).to.equal(false);
  });
});
