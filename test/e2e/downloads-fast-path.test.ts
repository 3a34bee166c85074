// The download fast path (src/server/fast-downloads.ts) answers exactly as Hono's routes do: the
// same URL with a query string goes to Hono, so each answer is compared with its twin: /pkg bytes
// from memory (small) and streamed (large), HEAD, 304 on the ETag, the /port 301s; misses and bad
// input fall through to Hono's JSON errors. A store commit makes /port resolve again; a portpkg
// replaced on disk is noticed.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packDir } from '../../src/mpm/pack-dir.js';
import { atomicWrite } from '../../src/lib/atomic-write.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { editManifest, FIXTURES } from '../support/git-client.js';
import { goodSubmission, markBuilt, upload } from '../support/portpkgs.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const ANSWER_HEADERS = ['content-type', 'content-length', 'etag', 'cache-control', 'content-disposition', 'location'];

async function answer(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Record<string, string | null>; body: Buffer }> {
  const r = await fetch(url, { redirect: 'manual', ...init });
  const headers = Object.fromEntries(ANSWER_HEADERS.map((h) => [h, r.headers.get(h)]));
  return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) };
}

describe('downloads: the fast path answers as the Hono routes do', function () {
  this.timeout(120_000);
  let s: TestServer;
  let small = 0;
  let large = 0;

  before(async () => {
    s = await startTestServer();
    small = await goodSubmission(s, s.adminToken, 'hello', '1.0');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pack-large-'));
    try {
      await cp(path.join(FIXTURES, 'hello'), dir, { recursive: true });
      await editManifest(dir, (p) => { p.name = 'large'; });
      await writeFile(path.join(dir, 'payload.bin'), randomBytes(600 * 1024)); // over the in-memory limit: streamed
      const r = await upload(s, await packDir(dir), s.adminToken);
      expect(r.status).to.equal(201);
      large = r.json.pkgid;
      await markBuilt(s, large, 'good');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  after(async () => s && (await s.close()));

  const twins = (p: string) => [`${s.url}${p}`, `${s.url}${p}${p.includes('?') ? '&' : '?'}via=hono`];

  for (const which of ['small', 'large'] as const) {
    it(`GET, HEAD and If-None-Match on /pkg of a ${which} portpkg`, async () => {
      const id = which === 'small' ? small : large;
      const [fast, hono] = twins(`/pkg/${id}`);
      const a = await answer(fast);
      const b = await answer(hono);
      expect(a.status).to.equal(200);
      expect(a).to.deep.equal(b);
      expect(a.body.equals(await readFile(s.ctx.store.abs(storePaths.portpkgTgz(id))))).to.equal(true);
      expect(await answer(fast, { method: 'HEAD' })).to.deep.equal(await answer(hono, { method: 'HEAD' }));
      const etag = a.headers.etag!;
      for (const inm of [etag, `"x", ${etag}`, '*']) {
        const c = await answer(fast, { headers: { 'if-none-match': inm } });
        expect(c.status).to.equal(304);
        expect(c).to.deep.equal(await answer(hono, { headers: { 'if-none-match': inm } }));
      }
    });
  }

  it('the /port 301s, and misses and bad input as Hono answers them (JSON 404)', async () => {
    for (const p of ['/port/hello', '/port/hello/1.0', '/port/hello/stable', '/port/hello/2.0', '/port/nothing', '/port/Bad', `/pkg/${large + 50}`, '/pkg/0', '/pkg/00001', '/pkg/abc']) {
      const [fast, hono] = twins(p);
      const a = await answer(fast);
      expect(a, p).to.deep.equal(await answer(hono));
      if (a.status === 404) expect(JSON.parse(a.body.toString()).error.code, p).to.equal('not_found');
    }
    expect((await answer(`${s.url}/port/hello`)).headers.location).to.equal(`/pkg/${small}`);
  });

  it('a remembered /port target is forgotten at the next store commit (a newer good build)', async () => {
    expect((await answer(`${s.url}/port/hello`)).headers.location).to.equal(`/pkg/${small}`);
    const newer = await goodSubmission(s, s.adminToken, 'hello', '1.1');
    expect((await answer(`${s.url}/port/hello`)).headers.location).to.equal(`/pkg/${newer}`);
    expect((await answer(`${s.url}/port/hello/1.0`)).headers.location).to.equal(`/pkg/${small}`);
  });

  it('a portpkg replaced on disk is served anew (its entry is checked again within a second)', async () => {
    const rel = storePaths.portpkgTgz(small);
    const before = await readFile(s.ctx.store.abs(rel));
    await atomicWrite(s.ctx.store.abs(rel), Buffer.concat([before, Buffer.from('x')]));
    try {
      await new Promise((r) => setTimeout(r, 1100));
      const a = await answer(`${s.url}/pkg/${small}`);
      expect(a.body.length).to.equal(before.length + 1);
      expect(a.headers['content-length']).to.equal(String(before.length + 1));
    } finally {
      await atomicWrite(s.ctx.store.abs(rel), before);
    }
  });
});
