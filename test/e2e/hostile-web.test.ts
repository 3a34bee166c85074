// The hostile corpus for the website and its sessions, against a real server on loopback (in this
// process, so its memory is this process's): a tag removed by someone who did not add it, a build
// report whose log is too big or whose message holds an escape sequence, sign-in and sign-out
// bodies of many MiB (declared and chunked), a sign-in `next` that leaves the site, a sign-in sent
// from another site or without its form token, a session that outlives its token (expired,
// revoked) or its sign-out, a token that makes a longer-lived token, a co-maintainer removing the
// owner, a worker account made a maintainer (API and CLI), throttled sign-ins, writes and bad
// tokens (429 with Retry-After), forms of another content type, unknown actions and pkgids.
// Each: its status and error code (the page's #error-code, or the JSON code), nothing written.
import { expect } from 'chai';
import { cliErrorCode, runCli } from '../support/cli-bin.js';
import { fixtureRepo, git, pushUrl, remoteHead } from '../support/git-client.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TagsDoc } from '../../src/store/layout/read-submission.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { goodSubmission } from '../support/portpkgs.js';
import { storeSnapshot } from '../support/refusals.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';
import { watchingRss } from '../support/raw-chunked.js';
import { getPage, hiddenField, postForm, postSignIn, rawPage, signIn, signInForm, type WebAnswer, type WebSignIn } from '../support/web-session.js';

const MiB = 1024 * 1024;

/** A Location that stays on this origin: a path beginning with one slash, not `//` or `/\`. */
function expectOwnPath(location: string | null, base: string, what: string): void {
  expect(location, what).to.be.a('string');
  expect(location!, what).to.match(/^\/(?![/\\])/);
  expect(new URL(location!, base).origin, what).to.equal(new URL(base).origin);
}

describe('hostile website and session requests: refused with a code, nothing written', function () {
  this.timeout(120_000);
  let s: TestServer;
  const tok: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' };
  const web: Partial<Record<'alice' | 'bob' | 'carol', WebSignIn>> = {};
  let pkgid = 0;

  /** POST /submissions/N/<action> as a signed-in user, with the session's CSRF token. */
  const act = (who: WebSignIn, action: string, fields: Record<string, string>, opts: { pkg?: string | number; contentType?: string; body?: string } = {}) =>
    postForm(s.url, `/submissions/${opts.pkg ?? pkgid}/${action}`, { ...fields, csrf: who.csrf }, { cookie: who.cookie, contentType: opts.contentType, body: opts.body });
  const tagsOf = async (id = pkgid) => ((await s.ctx.store.readJson<TagsDoc>(storePaths.tags(id)))?.tags ?? []).map((t) => `${t.tag}:${t.by}`);
  /** The store before and after `call` is the same; returns the answer. */
  const unchanged = async (call: () => Promise<WebAnswer>): Promise<WebAnswer> => {
    const before = await storeSnapshot(s.data);
    const r = await call();
    expect(await storeSnapshot(s.data), `nothing written (${r.status} ${r.code})`).to.deep.equal(before);
    return r;
  };

  before(async () => {
    s = await startTestServer({ worker: false });
    tok.alice = await newUser(s, 'alice');
    tok.bob = await newUser(s, 'bob');
    tok.carol = await newUser(s, 'carol');
    pkgid = await goodSubmission(s, tok.alice, 'hello', '1.0'); // alice owns hello
    for (const who of ['alice', 'bob', 'carol'] as const) web[who] = await signIn(s.url, who, tok[who]);
  });
  after(async () => s && (await s.close()));

  describe('1. removing a tag through the form', () => {
    it('refuses another user removing a tag they did not add (403 forbidden, the tag stays)', async () => {
      expect((await act(web.bob!, 'tag', { tag: 'bobs' })).status).to.equal(303);
      expect(await tagsOf()).to.include('bobs:bob');
      const r = await unchanged(() => act(web.carol!, 'tag', { tag: 'bobs', on: 'false' }));
      expect(r.status).to.equal(403);
      expect(r.code).to.equal('forbidden');
      expect(await tagsOf()).to.include('bobs:bob');
    });

    it("lets the tag's author remove it (303)", async () => {
      expect((await act(web.bob!, 'tag', { tag: 'bobs', on: 'false' })).status).to.equal(303);
      expect(await tagsOf()).to.not.include('bobs:bob');
    });

    it("lets a maintainer of the package remove another user's tag (303)", async () => {
      expect((await act(web.bob!, 'tag', { tag: 'again' })).status).to.equal(303);
      expect(await tagsOf()).to.include('again:bob');
      expect((await act(web.alice!, 'tag', { tag: 'again', on: 'false' })).status).to.equal(303);
      expect(await tagsOf()).to.not.include('again:bob');
    });
  });

  describe('2. a build report through the form', () => {
    let saved = 0;
    before(() => {
      saved = s.ctx.config.builder.log_max_bytes;
      s.ctx.config.builder.log_max_bytes = 64 * 1024;
    });
    after(() => { s.ctx.config.builder.log_max_bytes = saved; });

    it('refuses a log one byte over builder.log_max_bytes: 413 too_large, nothing committed', async () => {
      const r = await unchanged(() => act(web.bob!, 'report', { status: 'failed', arch: 'x86_64', message: 'big log', log: 'l'.repeat(64 * 1024 + 1) }));
      expect(r.status).to.equal(413);
      expect(r.code).to.equal('too_large');
    });

    it('refuses a form body far over the report limit: 413 too_large, nothing committed', async () => {
      const r = await unchanged(() => act(web.bob!, 'report', { status: 'failed', arch: 'x86_64', log: 'l'.repeat(MiB) }));
      expect(r.status).to.equal(413);
      expect(r.code).to.equal('too_large');
    });

    it('refuses a message with an escape sequence: 400 bad_request, nothing committed', async () => {
      const r = await unchanged(() => act(web.bob!, 'report', { status: 'failed', arch: 'x86_64', message: 'oops \x1b[2J\x1b]0;pwned\x07' }));
      expect(r.status).to.equal(400);
      expect(r.code).to.equal('bad_request');
    });

    it('takes a report whose log is exactly at the limit (303)', async () => {
      expect((await act(web.bob!, 'report', { status: 'ok', arch: 'x86_64', log: 'l'.repeat(64 * 1024) })).status).to.equal(303);
    });
  });

  describe('3. sign-in and sign-out bodies of many MiB', () => {
    const formHead = (p: string, extra = '') => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n${extra}`;

    it('refuses an 80 MiB POST /sign-in declared in Content-Length: 413 too_large, before reading', async () => {
      const { result: r, growth } = await watchingRss(() => rawPage(s.url, formHead('/sign-in'), 80 * MiB, { declared: true }));
      expect(r.status, r.text.slice(0, 300)).to.equal(413);
      expect(r.code).to.equal('too_large');
      expect(growth, 'RSS growth').to.be.below(40 * 1024 * 1024);
    });

    it('refuses an 80 MiB chunked POST /sign-in: 413 too_large, without reading it all or holding it', async () => {
      const { result: r, growth } = await watchingRss(() => rawPage(s.url, formHead('/sign-in'), 80 * MiB));
      expect(r.status, r.text.slice(0, 300)).to.equal(413);
      expect(r.code).to.equal('too_large');
      expect(r.sentBytes, 'the server answered before the whole body').to.be.below(80 * MiB);
      expect(growth, 'RSS growth').to.be.below(40 * 1024 * 1024);
    });

    it('answers a chunked POST /sign-out of 80 MiB with a session: refused (413) without reading it all', async () => {
      const who = await signIn(s.url, 'carol', tok.carol);
      const { result: r, growth } = await watchingRss(() => rawPage(s.url, formHead('/sign-out', `Cookie: ${who.cookie}\r\n`), 80 * MiB));
      expect(r.status, r.text.slice(0, 300)).to.equal(413);
      expect(r.code).to.equal('too_large');
      expect(r.sentBytes, 'the server answered before the whole body').to.be.below(80 * MiB);
      expect(growth, 'RSS growth').to.be.below(40 * 1024 * 1024);
    });

    it('answers a chunked POST /sign-out of 80 MiB without a session: ignored (303) without reading it', async () => {
      const { result: r, growth } = await watchingRss(() => rawPage(s.url, formHead('/sign-out'), 80 * MiB));
      expect(r.status, r.text.slice(0, 300)).to.equal(303);
      expect(r.sentBytes, 'the server answered before the whole body').to.be.below(80 * MiB);
      expect(growth, 'RSS growth').to.be.below(40 * 1024 * 1024);
    });
  });

  describe("4. sign-in's next stays on this site", () => {
    const NEXTS = [
      '/\\evil.example/x', '/\t/evil.example/', '/\\t/evil.example/', '//evil.example/', 'https://evil.example/',
      '/ok\r\nSet-Cookie: x=1', '\\\\evil.example/', '/.//evil.example/', '/%2e//evil.example/', '/x/..//evil.example/',
      'javascript:alert(1)', ' //evil.example/',
    ];
    for (const next of NEXTS) {
      it(`POST /sign-in with next ${JSON.stringify(next)}: a 303 to a path of this origin`, async () => {
        const r = await postSignIn(s.url, 'bob', tok.bob, { next });
        expect(r.status, r.code ?? '').to.equal(303);
        expectOwnPath(r.location, s.url, next);
        expect(r.cookies, 'no cookie of the next value').to.not.have.property('x');
        expect(r.cookies.morphux_session).to.be.a('string').and.not.equal('');
      });
      it(`GET /sign-in?next=${JSON.stringify(next)}: a page whose hidden next is a path of this origin`, async () => {
        const { page } = await signInForm(s.url, `?next=${encodeURIComponent(next)}`);
        expect(page.status).to.equal(200);
        expectOwnPath(hiddenField(page.text, 'next'), s.url, next);
      });
    }

    it('keeps a next that is a path of this site', async () => {
      const r = await postSignIn(s.url, 'bob', tok.bob, { next: `/submissions/${pkgid}?x=1#c` });
      expect(r.status).to.equal(303);
      expect(r.location).to.equal(`/submissions/${pkgid}?x=1#c`);
    });
  });

  describe('5. a sign-in sent from another site, or without its form token', () => {
    const refused = async (r: WebAnswer) => {
      expect(r.status, r.code ?? '').to.equal(403);
      expect(r.code).to.equal('forbidden');
      expect(r.cookies.morphux_session ?? '', 'no session cookie').to.equal('');
    };
    it('refuses an Origin of another site (403 forbidden, no session)', async () => {
      await refused(await postSignIn(s.url, 'bob', tok.bob, { headers: { origin: 'http://evil.example' } }));
    });
    it('refuses Origin: null (403 forbidden, no session)', async () => {
      await refused(await postSignIn(s.url, 'bob', tok.bob, { headers: { origin: 'null' } }));
    });
    for (const site of ['cross-site', 'same-site']) {
      it(`refuses Sec-Fetch-Site: ${site} (403 forbidden, no session)`, async () => {
        await refused(await postSignIn(s.url, 'bob', tok.bob, { headers: { 'sec-fetch-site': site } }));
      });
    }
    it('refuses a sign-in without the form token and its cookie (403 forbidden, no session)', async () => {
      await refused(await postForm(s.url, '/sign-in', { user: 'bob', token: tok.bob, next: '/' }));
    });
    it('refuses a sign-in with the form token but not its cookie (403 forbidden, no session)', async () => {
      const form = await signInForm(s.url);
      await refused(await postForm(s.url, '/sign-in', { user: 'bob', token: tok.bob, next: '/', form_token: form.formToken }));
    });
    it("refuses a sign-in with the cookie but another form's token (403 forbidden, no session)", async () => {
      const a = await signInForm(s.url);
      const b = await signInForm(s.url);
      await refused(await postSignIn(s.url, 'bob', tok.bob, { form: { cookie: a.cookie, formToken: b.formToken } }));
    });
    it('signs in with the Origin of this site (303)', async () => {
      const r = await postSignIn(s.url, 'bob', tok.bob, { headers: { origin: new URL(s.url).origin, 'sec-fetch-site': 'same-origin' } });
      expect(r.status).to.equal(303);
      expect(r.cookies.morphux_session).to.be.a('string').and.not.equal('');
    });
    it('refuses a form action sent from another site (403 forbidden, nothing written)', async () => {
      const r = await unchanged(() => postForm(s.url, `/submissions/${pkgid}/comment`, { text: 'forged', csrf: web.bob!.csrf }, { cookie: web.bob!.cookie, headers: { origin: 'http://evil.example' } }));
      expect(r.status).to.equal(403);
      expect(r.code).to.equal('forbidden');
    });
    it('refuses a form action without the CSRF token (403 forbidden, nothing written)', async () => {
      const r = await unchanged(() => postForm(s.url, `/submissions/${pkgid}/comment`, { text: 'forged' }, { cookie: web.bob!.cookie }));
      expect(r.status).to.equal(403);
      expect(r.code).to.equal('forbidden');
    });
  });

  describe('6. a web session does not outlive its token', () => {
    it('ends when its token expires (401 unauthenticated, nothing written)', async () => {
      const expiresAt = Date.now() + 3000;
      const made = await api(s.url, 'POST', '/api/v1/tokens', { name: 'short-web', expires_at: new Date(expiresAt).toISOString() }, tok.bob);
      expect(made.status, JSON.stringify(made.json)).to.equal(201);
      const who = await signIn(s.url, 'bob', made.json.token);
      expect((await act(who, 'comment', { text: 'while it lasts' })).status).to.equal(303);
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 300)));
      const r = await unchanged(() => act(who, 'comment', { text: 'after it expired' }));
      expect(r.status).to.equal(401);
      expect(r.code).to.equal('unauthenticated');
    });

    it('ends when its token is revoked (401 unauthenticated, nothing written)', async () => {
      const made = await api(s.url, 'POST', '/api/v1/tokens', { name: 'revoke-web' }, tok.bob);
      expect(made.status, JSON.stringify(made.json)).to.equal(201);
      const who = await signIn(s.url, 'bob', made.json.token);
      expect((await act(who, 'vote', { on: 'true' })).status).to.equal(303);
      expect((await api(s.url, 'DELETE', '/api/v1/tokens/revoke-web', undefined, tok.bob)).status).to.equal(200);
      const r = await unchanged(() => act(who, 'vote', { on: 'false' }));
      expect(r.status).to.equal(401);
      expect(r.code).to.equal('unauthenticated');
    });
  });

  describe('7. sign-out ends the session on the server', () => {
    it('refuses the copied cookie after sign-out (401 unauthenticated, nothing written)', async () => {
      const who = await signIn(s.url, 'carol', tok.carol);
      const copy = { ...who };
      expect((await act(who, 'vote', { on: 'true' })).status).to.equal(303);
      const out = await postForm(s.url, '/sign-out', { csrf: who.csrf }, { cookie: who.cookie });
      expect(out.status).to.equal(303);
      const r = await unchanged(() => act(copy, 'vote', { on: 'false' }));
      expect(r.status).to.equal(401);
      expect(r.code).to.equal('unauthenticated');
      const home = await getPage(s.url, '/', copy.cookie);
      expect(hiddenField(home.text, 'csrf'), 'the page shows no session').to.equal(null);
    });

    it('refuses a sign-out without its CSRF token (403 forbidden), and the session goes on', async () => {
      const who = await signIn(s.url, 'carol', tok.carol);
      const out = await postForm(s.url, '/sign-out', {}, { cookie: who.cookie });
      expect(out.status).to.equal(403);
      expect(out.code).to.equal('forbidden');
      expect((await act(who, 'vote', { on: 'true' })).status).to.equal(303);
    });
  });

  describe('8. a token with an expiry makes no longer-lived token', () => {
    let maker = '';
    let makerExpires = '';
    before(async () => {
      const made = await api(s.url, 'POST', '/api/v1/tokens', { name: 'maker', expires_at: new Date(Date.now() + 3600_000).toISOString() }, tok.carol);
      expect(made.status, JSON.stringify(made.json)).to.equal(201);
      maker = made.json.token;
      makerExpires = made.json.expires_at;
    });

    it("gives a new token without expires_at the maker's expiry (201)", async () => {
      const r = await api(s.url, 'POST', '/api/v1/tokens', { name: 'child' }, maker);
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
      expect(r.json.expires_at).to.equal(makerExpires);
    });

    it('refuses a new token expiring after the maker (403 forbidden, no token made)', async () => {
      const before = (await api(s.url, 'GET', '/api/v1/tokens', undefined, tok.carol)).json.items.map((t: { name: string }) => t.name);
      const r = await api(s.url, 'POST', '/api/v1/tokens', { name: 'longer', expires_at: new Date(Date.parse(makerExpires) + 60_000).toISOString() }, maker);
      expect(r.status, JSON.stringify(r.json)).to.equal(403);
      expect(r.json?.error?.code).to.equal('forbidden');
      const after = (await api(s.url, 'GET', '/api/v1/tokens', undefined, tok.carol)).json.items.map((t: { name: string }) => t.name);
      expect(after).to.deep.equal(before);
      expect(after).to.not.include('longer');
    });

    it('takes a new token expiring before the maker (201)', async () => {
      const r = await api(s.url, 'POST', '/api/v1/tokens', { name: 'shorter', expires_at: new Date(Date.parse(makerExpires) - 60_000).toISOString() }, maker);
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
    });
  });

  describe("9. a package's maintainers", () => {
    let workerName = '';
    before(async () => {
      expect((await api(s.url, 'PUT', '/api/v1/ports/hello/maintainers/bob', undefined, tok.alice)).status).to.equal(200);
      const w = await api(s.url, 'POST', '/api/v1/users', { name: 'builder1', worker: true }, s.adminToken);
      expect(w.status, JSON.stringify(w.json)).to.equal(201);
      workerName = w.json.name;
    });
    const owners = async () => s.ctx.owners.get('hello');

    it('refuses a co-maintainer removing the owner (403 forbidden, the owner stays)', async () => {
      const before = await owners();
      expect(before?.maintainers).to.include.members(['alice', 'bob']);
      const r = await api(s.url, 'DELETE', '/api/v1/ports/hello/maintainers/alice', undefined, tok.bob);
      expect(r.status, JSON.stringify(r.json)).to.equal(403);
      expect(r.json?.error?.code).to.equal('forbidden');
      expect(await owners()).to.deep.equal(before);
    });

    it('refuses a co-maintainer adding a maintainer (403 forbidden)', async () => {
      const before = await owners();
      const r = await api(s.url, 'PUT', '/api/v1/ports/hello/maintainers/carol', undefined, tok.bob);
      expect(r.status, JSON.stringify(r.json)).to.equal(403);
      expect(r.json?.error?.code).to.equal('forbidden');
      expect(await owners()).to.deep.equal(before);
    });

    it("refuses the owner adding a worker's account as a maintainer (403 forbidden)", async () => {
      const before = await owners();
      const r = await api(s.url, 'PUT', `/api/v1/ports/hello/maintainers/${workerName}`, undefined, tok.alice);
      expect(r.status, JSON.stringify(r.json)).to.equal(403);
      expect(r.json?.error?.code).to.equal('forbidden');
      expect(await owners()).to.deep.equal(before);
    });

    it("refuses an admin adding a worker's account as a maintainer (403 forbidden)", async () => {
      const r = await api(s.url, 'PUT', `/api/v1/ports/hello/maintainers/${workerName}`, undefined, s.adminToken);
      expect(r.status, JSON.stringify(r.json)).to.equal(403);
      expect(r.json?.error?.code).to.equal('forbidden');
    });

    it("refuses the operator's `morphux repo maintainer add` of a worker's account (exit ≠ 0, (forbidden))", async () => {
      const before = await owners();
      const r = await runCli('morphux', ['repo', 'maintainer', 'add', 'hello', workerName, '--data', s.data]);
      expect(r.code, r.err).to.not.equal(0);
      expect(cliErrorCode(r), r.err).to.equal('forbidden');
      expect(await owners()).to.deep.equal(before);
    });
  });

  describe('11. a form of another content type', () => {
    for (const [type, body] of [
      ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--xyz--\r\n'],
      ['text/plain', 'text=hi'],
      ['application/json', '{"text":"hi"}'],
    ]) {
      it(`refuses a comment form sent as ${type.split(';')[0]}: 415 unsupported_media_type, nothing written`, async () => {
        const r = await unchanged(() => act(web.bob!, 'comment', {}, { contentType: type, body: `${body}` }));
        expect(r.status).to.equal(415);
        expect(r.code).to.equal('unsupported_media_type');
      });
    }
    it('refuses a sign-in sent as text/plain: 415 unsupported_media_type, no session', async () => {
      const form = await signInForm(s.url);
      const r = await postForm(s.url, '/sign-in', {}, { cookie: form.cookie, contentType: 'text/plain', body: `user=bob&token=${tok.bob}&form_token=${form.formToken}` });
      expect(r.status).to.equal(415);
      expect(r.code).to.equal('unsupported_media_type');
      expect(r.cookies.morphux_session ?? '').to.equal('');
    });
  });

  describe('12. unknown actions and pkgids', () => {
    it('answers an unknown action with 404 not_found, nothing written', async () => {
      const r = await unchanged(() => act(web.bob!, 'nope', { text: 'x' }));
      expect(r.status).to.equal(404);
      expect(r.code).to.equal('not_found');
    });
    it('answers an unknown action without a session with 404 not_found', async () => {
      const r = await postForm(s.url, `/submissions/${pkgid}/nope`, { text: 'x' });
      expect(r.status).to.equal(404);
      expect(r.code).to.equal('not_found');
    });
    // names of Object.prototype's properties: no form either (they were a 401 without a session, a 500 with one)
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      it(`answers the action ${name} with 404 not_found, with a session or without, nothing written`, async () => {
        const signedIn = await unchanged(() => act(web.bob!, name, { text: 'x' }));
        expect(signedIn.status, signedIn.text.slice(0, 200)).to.equal(404);
        expect(signedIn.code).to.equal('not_found');
        const anonymous = await postForm(s.url, `/submissions/${pkgid}/${name}`, { text: 'x' });
        expect(anonymous.status).to.equal(404);
        expect(anonymous.code).to.equal('not_found');
      });
    }
    for (const bad of ['abc', '0', '-1', '1e3', '99999999999999999999999', '%20', '1.5']) {
      it(`answers a comment on pkgid ${JSON.stringify(bad)} (cannot exist) with 404 not_found, nothing written`, async () => {
        const r = await unchanged(() => act(web.bob!, 'comment', { text: 'x' }, { pkg: bad }));
        expect(r.status, r.text.slice(0, 200)).to.equal(404);
        expect(r.code).to.equal('not_found');
      });
    }
    it('answers a comment on a pkgid nobody submitted with 404 not_found, nothing written', async () => {
      const r = await unchanged(() => act(web.bob!, 'comment', { text: 'x' }, { pkg: 987654 }));
      expect(r.status).to.equal(404);
      expect(r.code).to.equal('not_found');
    });
  });
});

describe('10. throttling on the website and the API (throttle on, small buckets)', function () {
  this.timeout(120_000);
  let s: TestServer;
  let alice = '';
  let bob = '';
  let pkgid = 0;

  before(async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), [
      'throttle:',
      '  sign_in: {per_user: {burst: 3, per_minute: 1}, per_address: {burst: 4, per_minute: 1}}',
      '  auth_failure: {per_address: {burst: 3, per_minute: 1}}',
      '  write: {per_user: {burst: 4, per_minute: 1}, per_address: {burst: 100, per_minute: 60}}',
      '',
    ].join('\n'));
    s = await startTestServer({ data, throttle: true });
    alice = await newUser(s, 'alice');
    bob = await newUser(s, 'bob');
    pkgid = await goodSubmission(s, alice, 'hello', '1.0');
  });
  after(async () => s && (await s.close()));

  it("refuses API writes past the write bucket's burst: 429 rate_limited with Retry-After, nothing written", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, bob);
      expect(r.status, `write ${i + 1}: ${JSON.stringify(r.json)}`).to.equal(200);
    }
    const before = await storeSnapshot(s.data);
    const r = await api(s.url, 'POST', `/api/v1/pkg/${pkgid}/comments`, { text: 'one too many' }, bob);
    expect(r.status, JSON.stringify(r.json)).to.equal(429);
    expect(r.json?.error?.code).to.equal('rate_limited');
    expect(Number(r.headers.get('retry-after'))).to.be.at.least(1);
    expect(await storeSnapshot(s.data)).to.deep.equal(before);
    // another user's bucket is their own
    expect((await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, alice)).status).to.equal(200);
  });

  it('refuses a bad bearer token past the auth_failure burst: 429 rate_limited with Retry-After', async () => {
    const bad = `mpx_${Buffer.alloc(32, 9).toString('base64url')}`;
    for (let i = 0; i < 3; i++) {
      const r = await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, bad);
      expect(r.status, `attempt ${i + 1}: ${JSON.stringify(r.json)}`).to.equal(401);
      expect(r.json?.error?.code).to.equal('unauthenticated');
    }
    const r = await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, bad);
    expect(r.status, JSON.stringify(r.json)).to.equal(429);
    expect(r.json?.error?.code).to.equal('rate_limited');
    expect(Number(r.headers.get('retry-after'))).to.be.at.least(1);
  });

  it('answers a push with a bad token 429 once the address has failed too often (git, through the same bucket)', async () => {
    const wc = await fixtureRepo('hello');
    const outs: string[] = [];
    for (let i = 0; i < 4; i++) outs.push((await git(wc, 'push', '-q', pushUrl(s.url, 'hello', 'alice', `mpx_${'y'.repeat(43)}`), 'HEAD:refs/heads/version-9.9')).out);
    expect(outs.at(-1)).to.match(/\b429\b/);
    expect(await remoteHead(s.url, 'hello', 'version-9.9')).to.equal('');
  });

  it('refuses repeated failed sign-ins from one address: a 429 rate_limited page with Retry-After, and then no session', async () => {
    const form = await signInForm(s.url);
    const statuses: number[] = [];
    let last: WebAnswer | null = null;
    for (let i = 0; i < 4; i++) {
      last = await postSignIn(s.url, 'alice', `mpx_${'x'.repeat(43)}`, { form });
      statuses.push(last.status);
    }
    expect(statuses).to.deep.equal([401, 401, 401, 429]);
    expect(last!.code).to.equal('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).to.be.at.least(1);
    expect(last!.headers.get('content-type')).to.match(/^text\/html/);
    // the right token is refused too while the bucket is empty
    const right = await postSignIn(s.url, 'alice', alice, { form });
    expect(right.status).to.equal(429);
    expect(right.code).to.equal('rate_limited');
    expect(right.cookies.morphux_session ?? '').to.equal('');
  });

  it('refuses sign-ins from one address past its burst whatever the user name (429 rate_limited)', async () => {
    // 3 attempts were taken from the address's bucket of 4 above (the 4th was refused and took nothing): one more as bob, then refused
    const form = await signInForm(s.url);
    expect((await postSignIn(s.url, 'bob', 'wrong-token-0123456789', { form })).status).to.equal(401);
    const r = await postSignIn(s.url, 'bob', bob, { form });
    expect(r.status).to.equal(429);
    expect(r.code).to.equal('rate_limited');
    expect(Number(r.headers.get('retry-after'))).to.be.at.least(1);
  });
});
