// Bad input over HTTP (the app called in-process): unknown pkgids, malformed JSON, bodies over the configured limit, invalid
// names and tags, hostile .tgz uploads (traversal, absolute paths, links leading out, devices,
// bombs) — each a 4xx with an error code, and nothing written to the store.
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { goodSubmission, packFixture, upload } from '../support/portpkgs.js';
import { gzipBomb, MANIFEST, rawTgz } from '../support/raw-tar.js';
import { openInProcess, type InProcess } from '../support/in-process.js';
import { newUser } from '../support/test-server.js';
import { HOSTILE } from '../support/hostile-archives.js';
import { itRefusesEach, storeSnapshot, type Refusal } from '../support/refusals.js';

const LIMIT = 256 * 1024;

describe('API: bad input is a 4xx with a code, and writes nothing', function () {
  this.timeout(120_000);
  let s: InProcess;
  let alice: string;
  let pkgid = 0;
  const snapshot = () => storeSnapshot(s.data);

  before(async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `server:\n  body_limit_bytes: ${LIMIT}\n`);
    s = await openInProcess({ data });
    alice = await newUser(s, 'alice');
    pkgid = await goodSubmission(s, alice, 'hello', '1.0');
  });
  after(async () => s && (await s.close()));

  type Bad = Refusal;
  const json = (method: string, p: string, body?: unknown) => () => s.api(method, p, body, alice);
  const cases: Bad[] = [
    ['an unknown pkgid (GET)', () => s.api('GET', '/api/v1/pkg/99999'), 404, 'not_found'],
    ['a pkgid that is not a number', () => s.api('GET', '/api/v1/pkg/abc'), 404, 'not_found'],
    ['an unknown pkgid (comment)', json('POST', '/api/v1/pkg/99999/comments', { text: 'x' }), 404, 'not_found'],
    ['an unknown pkgid (flag)', json('POST', '/api/v1/pkg/99999/flags/stable'), 404, 'not_found'],
    ['an unknown pkgid (vote)', json('PUT', '/api/v1/pkg/0/vote'), 404, 'not_found'],
    ['an unknown package', () => s.api('GET', '/api/v1/ports/nosuch'), 404, 'not_found'],
    ['malformed JSON', json('POST', `/api/v1/pkg/${1}/comments`, '{"text": nope'), 400, 'bad_request'],
    ['JSON that is not an object', json('POST', '/api/v1/repos', '[1,2]'), 400, 'bad_request'],
    ['a report with a bad status', json('POST', `/api/v1/pkg/${1}/reports`, { status: 'meh', arch: 'x86_64' }), 400, 'bad_request'],
    ['a report with an unknown arch', json('POST', `/api/v1/pkg/${1}/reports`, { status: 'ok', arch: 'pdp11' }), 400, 'bad_request'],
    ['a report with unknown fields', json('POST', `/api/v1/pkg/${1}/reports`, { status: 'ok', arch: 'x86_64', evil: 1 }), 400, 'bad_request'],
    ['an empty comment', json('POST', `/api/v1/pkg/${1}/comments`, { text: '   ' }), 400, 'bad_request'],
    ['a body over the configured limit (JSON)', json('POST', `/api/v1/pkg/${1}/reports`, { status: 'ok', arch: 'x86_64', log: 'x'.repeat(LIMIT) }), 413, 'too_large'],
    ['a body over the configured limit (upload)', async () => upload(s, Buffer.alloc(LIMIT + 1, 1), alice), 413, 'too_large'],
    ['an invalid package name', json('POST', '/api/v1/repos', { name: 'Bad Name' }), 400, 'invalid_name'],
    ['a package name with ..', json('POST', '/api/v1/repos', { name: 'a..b' }), 400, 'invalid_name'],
    ['a package name that is not a string', json('POST', '/api/v1/repos', { name: 42 }), 400, 'invalid_name'],
    ['an invalid tag', json('PUT', `/api/v1/pkg/${1}/tags/Not%20A%20Tag`), 400, 'invalid_name'],
    ['a tag with a slash', json('PUT', `/api/v1/pkg/${1}/tags/a%2Fb`), 400, 'invalid_name'],
    ['a tag that is too long', json('PUT', `/api/v1/pkg/${1}/tags/${'t'.repeat(65)}`), 400, 'invalid_name'],
    ['an invalid tag filter', () => s.api('GET', '/api/v1/ports?tag=..'), 400, 'invalid_name'],
    ['an unknown sort', () => s.api('GET', '/api/v1/ports?sort=random'), 400, 'bad_request'],
    ['a bad page cursor', () => s.api('GET', '/api/v1/ports?next=-5'), 400, 'bad_request'],
    ['an invalid token name', json('POST', '/api/v1/tokens', { name: '../x' }), 400, 'invalid_name'],
    ['an invalid user name', () => s.api('POST', '/api/v1/users', { name: 'Ro ot' }, s.adminToken), 400, 'invalid_name'],
    ['an upload with no package.json', async () => upload(s, rawTgz([{ name: 'README', body: 'hi' }]), alice), 422, 'invalid_manifest'],
    ['an upload with an invalid package.json', async () => upload(s, await packFixture('hello', (p) => { p.version = 'not a version!'; }), alice), 422, 'invalid_manifest'],
    ['an empty upload', async () => upload(s, Buffer.alloc(0), alice), 400, 'bad_request'],
    ['an upload with a bad file name', async () => upload(s, await packFixture('hello'), alice, '?filename=..%2F..%2Fx'), 400, 'bad_request'],
    ['an upload of a reserved name', async () => upload(s, rawTgz([{ name: 'package.json', body: JSON.stringify({ name: 'store', version: '1' }) }]), alice), 400, 'invalid_name'],
    ...HOSTILE.filter(([what]) => !/600 MiB/.test(what)).map(([what, tgz, code]): Bad => [
      `an upload with ${what}`, () => upload(s, tgz, alice), code === 'too_large' ? 413 : code === 'bad_request' ? 400 : 422, code,
    ]),
    ['an upload that is a gzip bomb within the body limit', async () => upload(s, gzipBomb([MANIFEST], 200), alice), 413, 'too_large'],
  ];

  itRefusesEach(cases, snapshot);

  it('still works after all that (the submission is intact, the queue knows only good uploads)', async () => {
    expect((await s.api('GET', `/api/v1/pkg/${pkgid}`)).json.status.state).to.equal('good');
    expect((await s.api('GET', '/api/v1/ports')).json.items.map((i: any) => i.name)).to.deep.equal(['hello']);
  });
});
