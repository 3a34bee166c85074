// The authorisation matrix: every mutating endpoint × {anonymous, registered user, maintainer of
// another package, maintainer, admin} gives exactly the intended status (401, 403 or 2xx), a
// refusal writes nothing to the store, and forged and revoked tokens are refused (401). The app is
// called in-process.
import { expect } from 'chai';
import path from 'node:path';
import { UserStore } from '../../src/accounts/user-store.js';
import { goodSubmission, packFixture, upload } from '../support/portpkgs.js';
import { openInProcess, type InProcess } from '../support/in-process.js';
import { storeCommits } from '../support/refusals.js';
import { newUser } from '../support/test-server.js';

type Role = 'anonymous' | 'user' | 'other_maintainer' | 'maintainer' | 'admin';
const ROLES: Role[] = ['anonymous', 'user', 'other_maintainer', 'maintainer', 'admin'];
const want = (...codes: number[]): Record<Role, number> => Object.fromEntries(ROLES.map((r, i) => [r, codes[i]])) as Record<Role, number>;

interface Call {
  method: string;
  path: string;
  body?: unknown;
  /** a portpkg POSTed to /api/v1/submit (method and path as said) */
  upload?: Buffer;
}
interface Case {
  what: string;
  /** the request for this role; may set the stage first (as the admin) */
  call(role: Role, n: number): Promise<Call>;
  want: Record<Role, number>;
}

describe('API: authorisation matrix of every mutating endpoint', function () {
  this.timeout(120_000);
  let s: InProcess;
  const tokens: Partial<Record<Role, string>> = {};
  const names: Record<Role, string> = { anonymous: '', user: 'uma', other_maintainer: 'oscar', maintainer: 'mia', admin: '' };
  let pkgid = 0;
  let seq = 0;
  let helper = '';
  const commits = () => storeCommits(s.data);

  async function send(c: Call, token?: string): Promise<{ status: number; json: any }> {
    return c.upload ? upload(s, c.upload, token) : s.api(c.method, c.path, c.body, token);
  }

  before(async () => {
    s = await openInProcess();
    tokens.admin = s.adminToken;
    names.admin = (await s.api('GET', '/api/v1/me', undefined, s.adminToken)).json.name;
    for (const r of ['user', 'other_maintainer', 'maintainer'] as const) tokens[r] = await newUser(s, names[r]);
    helper = await newUser(s, 'helper');
    expect((await s.api('POST', '/api/v1/repos', { name: 'other' }, tokens.other_maintainer)).status).to.equal(201);
    pkgid = await goodSubmission(s, tokens.maintainer!, 'hello', '1.0');
  });
  after(async () => s && (await s.close()));

  const asAdmin = (method: string, p: string, body?: unknown) => s.api(method, p, body, s.adminToken);
  const cases: Case[] = [
    { what: 'POST submit', want: want(401, 201, 201, 201, 201),
      call: async () => ({ method: 'POST', path: '/api/v1/submit', upload: await packFixture('hello', (p) => { p.version = `3.${++seq}`; }) }) },
    { what: 'POST pkg/<pkgid>/flags/stable', want: want(401, 403, 403, 200, 200),
      call: async () => ({ method: 'POST', path: `/api/v1/pkg/${pkgid}/flags/stable` }) },
    { what: 'DELETE pkg/<pkgid>/flags/stable', want: want(401, 403, 403, 200, 200),
      call: async () => { await asAdmin('POST', `/api/v1/pkg/${pkgid}/flags/stable`); return { method: 'DELETE', path: `/api/v1/pkg/${pkgid}/flags/stable` }; } },
    { what: 'POST pkg/<pkgid>/reports', want: want(401, 201, 201, 201, 201),
      call: async () => ({ method: 'POST', path: `/api/v1/pkg/${pkgid}/reports`, body: { status: 'ok', arch: 'x86_64', log: 'ok\n' } }) },
    { what: 'POST pkg/<pkgid>/comments', want: want(401, 201, 201, 201, 201),
      call: async () => ({ method: 'POST', path: `/api/v1/pkg/${pkgid}/comments`, body: { text: 'hi' } }) },
    { what: 'PUT pkg/<pkgid>/tags/<tag>', want: want(401, 200, 200, 200, 200),
      call: async (_r, n) => ({ method: 'PUT', path: `/api/v1/pkg/${pkgid}/tags/t${n}` }) },
    { what: 'DELETE pkg/<pkgid>/tags/<tag> added by someone else', want: want(401, 403, 403, 200, 200),
      call: async (_r, n) => { await s.api('PUT', `/api/v1/pkg/${pkgid}/tags/x${n}`, undefined, helper); return { method: 'DELETE', path: `/api/v1/pkg/${pkgid}/tags/x${n}` }; } },
    { what: 'PUT pkg/<pkgid>/vote', want: want(401, 200, 200, 200, 200),
      call: async () => ({ method: 'PUT', path: `/api/v1/pkg/${pkgid}/vote` }) },
    { what: 'DELETE pkg/<pkgid>/vote', want: want(401, 200, 200, 200, 200),
      call: async () => ({ method: 'DELETE', path: `/api/v1/pkg/${pkgid}/vote` }) },
    { what: 'POST repos', want: want(401, 201, 201, 201, 201),
      call: async (_r, n) => ({ method: 'POST', path: '/api/v1/repos', body: { name: `repo${n}` } }) },
    { what: 'POST users', want: want(401, 403, 403, 403, 201),
      call: async (_r, n) => ({ method: 'POST', path: '/api/v1/users', body: { name: `newbie${n}` } }) },
    { what: 'PUT ports/<name>/maintainers/<user>', want: want(401, 403, 403, 200, 200),
      call: async () => ({ method: 'PUT', path: '/api/v1/ports/hello/maintainers/helper' }) },
    { what: 'DELETE ports/<name>/maintainers/<user>', want: want(401, 403, 403, 200, 200),
      call: async () => { await asAdmin('PUT', '/api/v1/ports/hello/maintainers/helper'); return { method: 'DELETE', path: '/api/v1/ports/hello/maintainers/helper' }; } },
    { what: 'POST tokens', want: want(401, 201, 201, 201, 201),
      call: async (_r, n) => ({ method: 'POST', path: '/api/v1/tokens', body: { name: `laptop${n}` } }) },
    { what: 'DELETE tokens/<name> (one\'s own)', want: want(401, 200, 200, 200, 200),
      call: async (role, n) => {
        if (role !== 'anonymous') await s.api('POST', '/api/v1/tokens', { name: `old${n}` }, tokens[role]);
        return { method: 'DELETE', path: `/api/v1/tokens/old${n}` };
      } },
  ];

  for (const c of cases) {
    for (const role of ROLES) {
      it(`${c.what} as ${role} → ${c.want[role]}`, async () => {
        const n = ++seq;
        const call = await c.call(role, n);
        const before = await commits();
        const r = await send(call, tokens[role]);
        expect(r.status, JSON.stringify(r.json)).to.equal(c.want[role]);
        if (r.status === 401) expect(r.json.error.code).to.equal('unauthenticated');
        if (r.status === 403) expect(r.json.error.code).to.equal('forbidden');
        if (r.status >= 400) expect(await commits(), 'a refusal writes nothing').to.equal(before);
      });
    }
  }

  it('refuses forged tokens on every mutating endpoint (401)', async () => {
    for (const forged of ['mpx_' + 'A'.repeat(43), 'not-a-token-at-all', tokens.user!.slice(0, -1) + (tokens.user!.endsWith('A') ? 'B' : 'A')]) {
      for (const c of cases) {
        const r = await send(await c.call('anonymous', ++seq), forged);
        expect(r.status, `${c.what} with ${forged.slice(0, 8)}…`).to.equal(401);
        expect(r.json.error.code).to.equal('unauthenticated');
      }
    }
    expect((await s.api('POST', '/api/v1/repos', { name: 'x1' }, undefined)).status).to.equal(401);
    const basic = await s.request('/api/v1/repos', { method: 'POST', headers: { authorization: 'Basic dTpw' }, body: '{"name":"x2"}' });
    expect(basic.status).to.equal(401);
  });

  it('refuses a token once revoked, over the API or by the operator from another process', async () => {
    const made = await s.api('POST', '/api/v1/tokens', { name: 'ci' }, tokens.user);
    expect(made.status).to.equal(201);
    const t = made.json.token as string;
    expect((await s.api('PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t)).status).to.equal(200);
    expect((await s.api('DELETE', '/api/v1/tokens/ci', undefined, tokens.user)).status).to.equal(200);
    expect((await s.api('PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t)).status).to.equal(401);
    // the operator (`morphux user token revoke`) writes the user file; the running server sees it
    const operator = new UserStore(path.join(s.data, 'users'));
    const { token: t2 } = await operator.addToken('uma', 'script');
    expect((await s.api('PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t2)).status).to.equal(200);
    await operator.revokeToken('uma', 'script');
    expect((await s.api('PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t2)).status).to.equal(401);
    // the other tokens of the user still work; token lists never show hashes
    const me = await s.api('GET', '/api/v1/me', undefined, tokens.user);
    expect(me.status).to.equal(200);
    expect(JSON.stringify(me.json)).to.not.match(/sha256|mpx_/);
  });

  it('checks a request\'s token once, even where the route names the user and then acts (/api/v1/tokens)', async () => {
    const users = s.ctx.users;
    const authenticate = users.authenticate.bind(users);
    let checks = 0;
    users.authenticate = async (token: string) => { checks++; return authenticate(token); };
    try {
      for (const [method, p, body, status] of [
        ['POST', '/api/v1/tokens', { name: 'once' }, 201], ['GET', '/api/v1/tokens', undefined, 200],
        ['GET', '/api/v1/me', undefined, 200], ['DELETE', '/api/v1/tokens/once', undefined, 200],
      ] as const) {
        checks = 0;
        expect((await s.api(method, p, body, tokens.user)).status, `${method} ${p}`).to.equal(status);
        expect(checks, `${method} ${p}`).to.equal(1);
      }
    } finally {
      users.authenticate = authenticate;
    }
  });

  it('the owner adds a co-maintainer, who may then flag but not manage maintainers; the last maintainer cannot be removed', async () => {
    expect((await s.api('POST', `/api/v1/pkg/${pkgid}/flags/stable`, undefined, tokens.user)).status).to.equal(403);
    await s.api('DELETE', '/api/v1/ports/hello/maintainers/helper', undefined, s.adminToken);
    expect((await s.api('PUT', '/api/v1/ports/hello/maintainers/uma', undefined, tokens.maintainer)).json.maintainers).to.deep.equal(['mia', 'uma']);
    expect((await s.api('POST', `/api/v1/pkg/${pkgid}/flags/stable`, undefined, tokens.user)).status).to.equal(200);
    const coup = await s.api('DELETE', '/api/v1/ports/hello/maintainers/mia', undefined, tokens.user);
    expect(coup.json.error.code, 'a co-maintainer cannot remove the owner').to.equal('forbidden');
    expect((await s.api('DELETE', '/api/v1/ports/hello/maintainers/uma', undefined, tokens.maintainer)).status).to.equal(200);
    const last = await s.api('DELETE', '/api/v1/ports/hello/maintainers/mia', undefined, tokens.maintainer);
    expect(last.status).to.equal(409);
    expect(last.json.error.code, 'the last maintainer stays').to.equal('conflict');
    expect((await s.api('PUT', '/api/v1/ports/hello/maintainers/nobody', undefined, s.adminToken)).json.error.code).to.equal('not_found');
    const nosuch = await s.api('PUT', '/api/v1/ports/nosuch/maintainers/uma', undefined, s.adminToken);
    expect(nosuch.status).to.equal(404);
    expect(nosuch.json.error.code).to.equal('not_found');
  });
});
