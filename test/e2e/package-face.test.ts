// A registered user may submit a revision of anyone's package (the mpwa design): it is built,
// listed and reachable by its pkgid, marked as a user's, but it never speaks for the package.
// What the package shows (description, category, tags, its latest version on the list and its
// page) comes only from submissions /port/<name> could serve: a maintainer's or an admin's, or
// the stable one. No VM: builds are marked with the documented updateStatus shortcut. The app is
// called in-process.
import { expect } from 'chai';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { reindexStore } from '../../src/store/layout/reindex-store.js';
import { markBuilt, packFixture, upload } from '../support/portpkgs.js';
import { openInProcess, type InProcess } from '../support/in-process.js';
import { newUser, redirectOf } from '../support/test-server.js';

const EVIL = 'DEPRECATED - get it from http://evil.example instead';

describe('package face: a non-maintainer\'s submission never speaks for the package', function () {
  this.timeout(120_000);
  let s: InProcess;
  let alice: string;
  let mallory: string;
  let a1 = 0;
  let m9 = 0;
  const location = (p: string) => redirectOf(s, p);
  const page = async (p: string) => {
    const r = await s.request(p);
    return { status: r.status, text: await r.text() };
  };
  /** The <tr> of a submissions table that links to /submissions/<pkgid>. */
  const rowOf = (htmlText: string, pkgid: number) => {
    const rows = htmlText.split('<tr>').filter((r) => r.includes(`href="/submissions/${pkgid}"`) && r.includes('</td>'));
    expect(rows, `one row for pkgid ${pkgid}`).to.have.length(1);
    return rows[0]!.split('</tr>')[0]!;
  };
  const listItem = async (query = '') => (await s.api('GET', `/api/v1/ports${query}`)).json.items.find((i: any) => i.name === 'hello');

  before(async () => {
    s = await openInProcess();
    alice = await newUser(s, 'alice');
    mallory = await newUser(s, 'mallory');
  });
  after(async () => s && (await s.close()));

  it('the maintainer\'s upload makes the face; another user\'s upload is accepted, built and reachable by pkgid', async () => {
    const a = await upload(s, await packFixture('hello', (p) => { p.version = '1.0'; p.description = 'Hello'; p.category = 'utils'; p.tags = ['cli']; }), alice);
    expect(a.status).to.equal(201);
    a1 = a.json.pkgid;
    await markBuilt(s, a1, 'good');
    expect(a.json.submission).to.include({ submitter: 'alice', submitter_role: 'maintainer' });

    const m = await upload(s, await packFixture('hello', (p) => { p.version = '9.0'; p.description = EVIL; p.category = 'evil'; p.tags = ['evil', 'mirror']; }), mallory);
    expect(m.status).to.equal(201);
    m9 = m.json.pkgid;
    await markBuilt(s, m9, 'good');
    const got = await s.api('GET', `/api/v1/pkg/${m9}`);
    expect(got.status).to.equal(200);
    expect(got.json.submission).to.include({ pkgid: m9, name: 'hello', version: '9.0', submitter: 'mallory', submitter_role: 'user', description: EVIL });
    expect(got.json.status.state).to.equal('good');
    expect(await location(`/pkg/${m9}`)).to.equal(200);
  });

  it('the list, the package API and query URLs show the maintainer\'s face and latest version', async () => {
    const item = await listItem();
    expect(item).to.include({ description: 'Hello', category: 'utils', latest_version: '1.0', latest_pkgid: a1 });
    expect(item.tags).to.deep.equal(['cli']);
    expect((await s.api('GET', '/api/v1/ports?q=evil.example')).json.total).to.equal(0);
    expect((await s.api('GET', '/api/v1/ports?category=evil')).json.total).to.equal(0);
    expect((await s.api('GET', '/api/v1/ports?submitter=mallory')).json.items.map((i: any) => i.name)).to.deep.equal(['hello']);

    const port = await s.api('GET', '/api/v1/ports/hello');
    expect(port.status).to.equal(200);
    expect(port.json).to.include({ description: 'Hello', category: 'utils' });
    expect(port.json.tags).to.deep.equal(['cli']);
    expect(port.json.maintainers).to.deep.equal(['alice']);
    const roles = Object.fromEntries(port.json.submissions.map((x: any) => [x.pkgid, x.submitter_role]));
    expect(roles).to.deep.equal({ [a1]: 'maintainer', [m9]: 'user' });

    expect(await location('/port/hello')).to.equal(`/pkg/${a1}`);
    expect(await location('/port/hello/9.0')).to.equal(404);
  });

  it('the package page shows the maintainer\'s face; the user\'s row is listed and marked', async () => {
    const p = await page('/packages/hello');
    expect(p.status).to.equal(200);
    expect(p.text).to.include('<p>Hello</p>');
    expect(p.text).to.include('href="/category/utils"').and.to.include('href="/tag/cli"');
    expect(p.text).to.not.include('href="/category/evil"');
    expect(p.text).to.include(`data-latest-pkgid="${a1}"`);
    const mine = rowOf(p.text, m9);
    expect(mine).to.include('class="by-user"');
    expect(rowOf(p.text, a1)).to.not.include('class="by-user"');
    // the evil text, if anywhere on the page, only inside mallory's own marked row
    expect(p.text.replace(mine, '')).to.not.include('evil.example');

    const list = await page('/packages');
    expect(list.text).to.not.include('evil.example');
    const sub = await page(`/submissions/${m9}`);
    expect(sub.status).to.equal(200);
    expect(sub.text).to.include('class="by-user"');
    expect((await page(`/submissions/${a1}`)).text).to.not.include('class="by-user"');
  });

  it('flagged stable, the user\'s submission is served and listed as latest, but the face stays the maintainer\'s', async () => {
    expect((await s.api('POST', `/api/v1/pkg/${m9}/flags/stable`, undefined, mallory)).status).to.equal(403);
    expect((await s.api('POST', `/api/v1/pkg/${m9}/flags/stable`, undefined, alice)).status).to.be.within(200, 299);
    expect(await location('/port/hello/stable')).to.equal(`/pkg/${m9}`);
    expect(await location('/port/hello')).to.equal(`/pkg/${m9}`);
    const item = await listItem();
    expect(item).to.include({ description: 'Hello', category: 'utils', latest_version: '9.0', latest_pkgid: m9, stable_pkgid: m9 });
    expect((await s.api('GET', '/api/v1/ports/hello')).json).to.include({ description: 'Hello', category: 'utils' });
    expect((await s.api('DELETE', `/api/v1/pkg/${m9}/flags/stable`, undefined, alice)).status).to.be.within(200, 299);
    expect(await location('/port/hello')).to.equal(`/pkg/${a1}`);
    expect((await listItem())).to.include({ latest_version: '1.0', latest_pkgid: a1 });
  });

  it('reindex changes nothing and fsck is clean', async () => {
    expect((await reindexStore(s.ctx.store)).changed).to.equal(false);
    const report = await s.ctx.store.locked(() => fsckStore(s.ctx.store));
    expect(report.problems, JSON.stringify(report.problems)).to.deep.equal([]);
    expect(report.ok).to.equal(true);
  });
});
