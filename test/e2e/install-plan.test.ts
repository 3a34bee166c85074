// GET /api/v1/install and the bytes it points at, on a real server without VMs: good builds are
// recorded with the builder's outcome shortcut (support/good-submission.ts), binaries and
// manifest included. The plan of libgreet ← greet, its URLs answering bytes whose sha256 is the
// plan's, ETags and 304s, the /port rule for names (a user's upload never chosen by name), errors
// as 4xx with codes, and an index that fsck and reindex agree with after the status updates.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { reindexStore } from '../../src/store/layout/reindex-store.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { goodSubmission, maintainer, recordGoodBuild } from '../support/good-submission.js';
import { packFixture, upload } from '../support/portpkgs.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

async function tarNames(bytes: Buffer): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plan-tar-'));
  try {
    const file = path.join(dir, 'files.tar.gz');
    await writeFile(file, bytes);
    const names: string[] = [];
    await tar.list({ file, onReadEntry: (e) => { names.push(e.path); } });
    return names.sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('install plan over HTTP (no VM)', function () {
  this.timeout(180_000);
  let s: TestServer;
  let lib = 0;
  let greet = 0;
  let greet2 = 0;
  let mallorys = 0;
  const SO = 'libgreet shared object\n'.repeat(40);
  const BIN = '#!/bin/sh\necho hello\n';
  const installUrl = (q: string) => `/api/v1/install?${q}`;

  before(async () => {
    s = await startTestServer({ worker: false });
    const libM = await maintainer(s, 'libgreet');
    const greetM = await maintainer(s, 'greet');
    lib = await goodSubmission(s, libM, 'libgreet', '1.0', { 'usr/lib/libgreet.so.1': SO, 'usr/include/greet.h': 'void greet(void);\n' }, { fixture: 'libgreet', installedSize: 4096, compileSeconds: 1.5 });
    greet = await goodSubmission(s, greetM, 'greet', '1.0', { 'usr/bin/greet': BIN }, { fixture: 'greet', compileSeconds: 0.25 });
    // a newer greet that needs a libgreet nobody maintains
    greet2 = await goodSubmission(s, greetM, 'greet', '2.0', { 'usr/bin/greet': BIN }, { fixture: 'greet', edit: (p) => { p.dependencies = { libgreet: '>=2' }; } });
    // another registered user's libgreet 1.5: built good, reachable by pkgid, never by name
    const mallory = await newUser(s, 'mallory');
    const up = await upload(s, await packFixture('libgreet', (p) => { p.version = '1.5'; }), mallory);
    expect(up.status).to.equal(201);
    expect(up.json.submission.submitter_role).to.equal('user');
    mallorys = up.json.pkgid;
    await recordGoodBuild(s, mallorys, { 'usr/lib/libgreet.so.1': 'not the real one\n' });
  });
  after(async () => s && (await s.close()));

  it('answers the closure, dependencies first, with sizes, ranges and digests (format of docs/install-plan.md)', async () => {
    const r = await api(s.url, 'GET', installUrl('pkg=greet@1.0'));
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^application\/json/);
    expect(r.json.arch).to.equal('x86_64');
    expect(r.json.requested).to.deep.equal(['greet@1.0']);
    expect(r.json).to.not.have.property('unchanged');
    const [l, g] = r.json.packages;
    expect(r.json.packages).to.have.length(2);
    expect(l).to.deep.include({
      name: 'libgreet', version: '1.0', pkgid: lib, pkgurl: `${s.url}/pkg/${lib}`, arch: 'x86_64', explicit: false,
      installed_size: 4096, compile_seconds: 1.5, dependencies: {}, resolved: {},
    });
    expect(l.binaries.url).to.equal(`${s.url}/pkg/${lib}/binaries/x86_64`);
    expect(l.manifest.url).to.equal(`${s.url}/pkg/${lib}/binaries/x86_64/manifest`);
    expect(g).to.deep.include({
      name: 'greet', version: '1.0', pkgid: greet, explicit: true, installed_size: BIN.length, compile_seconds: 0.25,
      dependencies: { libgreet: '>=1.0 <2' }, resolved: { libgreet: lib },
    });
    for (const e of r.json.packages) {
      expect(e.binaries.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(e.manifest.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(e.binaries.size).to.be.a('number').above(0);
    }
  });

  it('names resolve by the /port rule: the maintainers\' newest good, never another user\'s upload', async () => {
    const port = await fetch(`${s.url}/port/libgreet`, { redirect: 'manual' });
    expect(port.headers.get('location')).to.equal(`/pkg/${lib}`);
    const byName = await api(s.url, 'GET', installUrl('pkg=libgreet'));
    expect(byName.json.packages.map((e: any) => e.pkgid)).to.deep.equal([lib]);
    expect((await api(s.url, 'GET', installUrl('pkg=greet@1.0'))).json.packages[0].pkgid).to.equal(lib);
    // by its pkgid or pkgurl a user's submission is what was asked for
    for (const spec of [String(mallorys), encodeURIComponent(`${s.url}/pkg/${mallorys}`)]) {
      const p = await api(s.url, 'GET', installUrl(`pkg=${spec}`));
      expect(p.status, JSON.stringify(p.json)).to.equal(200);
      expect(p.json.packages.map((e: any) => [e.pkgid, e.explicit])).to.deep.equal([[mallorys, true]]);
    }
    // asked for along with greet, it is what greet's range resolves to
    const both = await api(s.url, 'GET', installUrl(`pkg=greet@1.0&pkg=${mallorys}`));
    expect(both.json.packages.map((e: any) => e.pkgid)).to.deep.equal([mallorys, greet]);
    expect(both.json.packages[1].resolved).to.deep.equal({ libgreet: mallorys });
  });

  it('serves the binaries and the manifest the plan points at, bytes whose sha256 is the plan\'s', async () => {
    const plan = (await api(s.url, 'GET', installUrl('pkg=greet@1.0'))).json;
    for (const e of plan.packages) {
      const b = await fetch(e.binaries.url);
      expect(b.status).to.equal(200);
      expect(b.headers.get('content-type')).to.equal('application/gzip');
      expect(b.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
      const bytes = Buffer.from(await b.arrayBuffer());
      expect(bytes.length).to.equal(e.binaries.size);
      expect(sha256(bytes)).to.equal(e.binaries.sha256);
      expect(b.headers.get('etag')).to.equal(`"${e.binaries.sha256}"`);
      const again = await fetch(e.binaries.url, { headers: { 'if-none-match': `"${e.binaries.sha256}"` } });
      expect(again.status).to.equal(304);
      expect(again.headers.get('etag')).to.equal(`"${e.binaries.sha256}"`);
      const head = await fetch(e.binaries.url, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.headers.get('content-length')).to.equal(String(e.binaries.size));

      const m = await fetch(e.manifest.url);
      expect(m.status).to.equal(200);
      expect(m.headers.get('content-type')).to.match(/^application\/json/);
      expect(m.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
      const text = Buffer.from(await m.arrayBuffer());
      expect(sha256(text)).to.equal(e.manifest.sha256);
      expect(m.headers.get('etag')).to.equal(`"${e.manifest.sha256}"`);
      expect((await fetch(e.manifest.url, { headers: { 'if-none-match': `"${e.manifest.sha256}"` } })).status).to.equal(304);
      const doc = JSON.parse(text.toString('utf8'));
      expect(Object.keys(doc)).to.deep.equal(['pkgid', 'name', 'version', 'arch', 'files']);
      expect(doc).to.include({ pkgid: e.pkgid, name: e.name, version: e.version, arch: 'x86_64' });
      // paths absolute in the manifest, relative in the archive
      const names = await tarNames(bytes);
      for (const f of doc.files) {
        expect(f.path.startsWith('/')).to.equal(true);
        expect(f).to.include.keys('type', 'mode', 'size', 'sha256');
        expect(names).to.include(f.path.slice(1));
      }
    }
    const lib1 = plan.packages[0];
    const so = (await (await fetch(lib1.manifest.url)).json() as any).files.find((f: any) => f.path === '/usr/lib/libgreet.so.1');
    expect(so).to.include({ type: 'file', size: SO.length, mode: 0o100644, sha256: sha256(Buffer.from(SO)) });
  });

  it('answers 404 not_found where there are no such binaries', async () => {
    const queued = (await upload(s, await packFixture('hello', (p) => { p.name = 'hello'; p.version = '1.0'; }), s.adminToken)).json.pkgid;
    for (const p of [`/pkg/${lib}/binaries/aarch64`, `/pkg/${lib}/binaries/aarch64/manifest`, `/pkg/${queued}/binaries/x86_64`, '/pkg/99999/binaries/x86_64/manifest', `/pkg/${lib}/binaries/..%2Fmeta`, '/pkg/abc/binaries/x86_64']) {
      const r = await api(s.url, 'GET', p);
      expect(r.status, p).to.equal(404);
      expect(r.json.error.code, p).to.equal('not_found');
    }
    // /pkg/<pkgid> itself is still the portpkg
    const tgz = await fetch(`${s.url}/pkg/${lib}`);
    expect(tgz.status).to.equal(200);
    expect(tgz.headers.get('content-type')).to.equal('application/gzip');
  });

  it('gives the plan a strong ETag and a 304 on If-None-Match', async () => {
    const r = await fetch(`${s.url}${installUrl('pkg=greet@1.0')}`);
    const tag = r.headers.get('etag');
    expect(tag).to.match(/^"[0-9a-f]{64}"$/);
    expect(tag).to.equal(`"${sha256(Buffer.from(await r.arrayBuffer()))}"`);
    const again = await fetch(`${s.url}${installUrl('pkg=greet@1.0')}`, { headers: { 'if-none-match': tag! } });
    expect(again.status).to.equal(304);
    // another plan, another tag
    const other = await fetch(`${s.url}${installUrl('pkg=libgreet')}`, { headers: { 'if-none-match': tag! } });
    expect(other.status).to.equal(200);
  });

  it('with ?installed= answers only what must change', async () => {
    const r = await api(s.url, 'GET', installUrl(`pkg=greet@1.0&installed=libgreet@${lib},greet@1`));
    expect(r.status).to.equal(200);
    expect(r.json.packages.map((e: any) => e.pkgid)).to.deep.equal([greet]);
    expect(r.json.unchanged).to.deep.equal([{ name: 'libgreet', pkgid: lib }]);
    const all = await api(s.url, 'GET', installUrl(`pkg=greet@1.0&installed=libgreet@${lib}&installed=greet@${greet}`));
    expect(all.json.packages).to.deep.equal([]);
    expect(all.json.unchanged.map((e: any) => e.pkgid)).to.deep.equal([lib, greet]);
  });

  it('fails with 4xx and a code: unknown name, no build for the arch, unsatisfiable ranges, bad specs', async () => {
    const cases: Array<[string, number, string, string[]]> = [
      ['pkg=nosuch', 404, 'not_found', ['nosuch']],
      ['pkg=greet@1.0&arch=aarch64', 404, 'not_found', ['aarch64']],
      ['pkg=greet', 422, 'dependency', ['libgreet >=2', 'greet']], // greet 2.0 is the newest: nothing provides libgreet >=2
      [`pkg=greet@2.0&pkg=libgreet`, 422, 'dependency', ['libgreet >=2']],
      ['pkg=Greet', 400, 'invalid_name', []],
      ['pkg=greet@1..0', 400, 'invalid_version', []],
      ['pkg=http%3A%2F%2Felsewhere.example%2Fpkg%2F1', 400, 'bad_request', []],
      ['', 400, 'bad_request', []],
      ['pkg=greet&arch=..%2Fx', 400, 'bad_request', []],
    ];
    for (const [q, status, code, words] of cases) {
      const r = await api(s.url, 'GET', installUrl(q));
      expect(r.status, `${q}: ${JSON.stringify(r.json)}`).to.equal(status);
      expect(r.json.error.code, q).to.equal(code);
      for (const w of words) expect(r.json.error.message, q).to.contain(w);
    }
    expect(greet2).to.be.above(greet);
  });

  it('keeps the index in agreement with the tree: fsck is clean, reindex changes nothing', async () => {
    const ix = await s.ctx.catalog.get('libgreet');
    const e = ix!.submissions.find((x) => x.pkgid === lib)!;
    const plan = (await api(s.url, 'GET', installUrl('pkg=libgreet'))).json.packages[0];
    expect(e.dependencies).to.deep.equal({});
    expect(e.builds).to.deep.equal({ x86_64: { installed_size: 4096, compile_seconds: 1.5, binaries: { size: plan.binaries.size, sha256: plan.binaries.sha256 }, manifest_sha256: plan.manifest.sha256 } });
    const report = await s.ctx.store.locked(() => fsckStore(s.ctx.store));
    expect(report.problems).to.deep.equal([]);
    expect((await reindexStore(s.ctx.store)).changed).to.equal(false);
  });

  it('answers the same plan from an index written before the plan\'s fields; reindex fills them in', async () => {
    const before = (await api(s.url, 'GET', installUrl('pkg=greet@1.0'))).json;
    for (const name of ['libgreet', 'greet']) {
      const rel = storePaths.portIndex(name);
      const ix = JSON.parse(await readFile(s.ctx.store.abs(rel), 'utf8'));
      for (const e of ix.submissions) { delete e.dependencies; delete e.builds; }
      await s.ctx.store.transact(`test: an old index of ${name}`, 'test', async (tx) => tx.writeJson(rel, ix));
    }
    expect((await s.ctx.catalog.get('greet'))!.submissions[0]).to.not.have.property('dependencies');
    expect((await api(s.url, 'GET', installUrl('pkg=greet@1.0'))).json).to.deep.equal(before);
    expect((await reindexStore(s.ctx.store)).changed).to.equal(true);
    expect((await s.ctx.catalog.get('greet'))!.submissions[0]!.dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
    expect((await api(s.url, 'GET', installUrl('pkg=greet@1.0'))).json).to.deep.equal(before);
    expect((await s.ctx.store.locked(() => fsckStore(s.ctx.store))).problems).to.deep.equal([]);
  });
});
