// Publishing end to end against a real FTP server (Debian's vsftpd on loopback): good submissions
// become compressed, signed, encrypted artifacts and a signed index on the mirror; an upload cut
// by killing the server resumes after its restart with the right bytes, and the index never names
// a missing artifact; mpm verifies and decrypts (over FTP and HTTP), and refuses every tampered
// case writing nothing; a key rotation's signed statement lets a client pinning the old key follow;
// an upload whose temporary file is wrong on the server's disk is caught before its rename.
import { expect } from 'chai';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mpmMirrorGet, type MirrorGetOptions } from '../../src/mpm/commands/mirror-get.js';
import { silentLogger } from '../../src/lib/logger.js';
import { isMorphuxError } from '../../src/domain/errors.js';
import { signRotation } from '../../src/domain/key-rotation.js';
import { parsePublicKey, signIndex, signingKeyId, type IndexPayload } from '../../src/domain/signed-index.js';
import { Publisher } from '../../src/publish/publisher.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { serveFolder } from '../support/static-http.js';
import { Vsftpd } from '../support/vsftpd.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

const readIndex = async (dir: string): Promise<IndexPayload> => JSON.parse(JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')).payload);

describe('publish: signed, encrypted artifacts on a real FTP mirror (vsftpd), verified by mpm', function () {
  this.timeout(300_000);
  const ftp = new Vsftpd();
  let s: TestServer;
  let pub: Publisher;
  let work: string;
  let publicKey: string;
  let contentKeys: string;
  let stateFile: string;
  let oldIndex = '';
  const big = randomBytes(3 * 1024 * 1024);
  let who: { user: string; token: string };

  const get = (o: Partial<MirrorGetOptions> & { spec: string }) => mpmMirrorGet({
    mirror: `${ftp.url}/pub`, arch: 'x86_64', publicKeys: [publicKey], contentKeysFile: contentKeys, stateFile, ...o,
  });

  before(async () => {
    await ftp.init();
    await ftp.start();
    s = await startTestServer({ worker: false });
    work = await mkdtemp(path.join(os.tmpdir(), 'morphux-publish-'));
    stateFile = path.join(work, 'mpm-state', 'mirrors.json');
    pub = new Publisher({
      settings: { ...s.config.publish, retry_base_seconds: 1, mirrors: [{ name: 'main', url: ftp.url, user: 'anonymous', password_file: null, dir: '/pub', tls_verify: true, ca_file: null, verify: 'sha256' }] },
      root: s.ctx.layout.publish, storeRoot: s.ctx.layout.store, log: silentLogger,
    });
    await pub.keys.init();
    publicKey = (await pub.keys.publicKeys())[0].public_key;
    contentKeys = path.join(work, 'content-keys.json');
    await writeFile(contentKeys, JSON.stringify(await pub.keys.contentKeysFile()));
    who = await maintainer(s, 'hello');
  });
  after(async () => {
    await s?.close();
    await ftp.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('keeps the keys private: folder 0700, files 0600, nothing under the store', async () => {
    const keysDir = path.join(s.ctx.layout.publish, 'keys');
    expect((await stat(keysDir)).mode & 0o777).to.equal(0o700);
    for (const f of await filesUnder(keysDir)) expect((await stat(f)).mode & 0o777, f).to.equal(0o600);
    expect(keysDir.startsWith(s.ctx.layout.store)).to.equal(false);
  });

  it('publishes a good submission: artifact, signature, then a signed index; mpm gets, verifies and decrypts it', async () => {
    const pkgid = await goodSubmission(s, who, 'hello', '1.0', { 'usr/bin/hello': 'hello binary\n', 'usr/share/doc/hello/README': 'readme\n' });
    const r = (await pub.runOnce({ force: true, wait: true }))!;
    expect(r.built).to.equal(1);
    expect(r.mirrors[0]).to.include({ index: 1, pending: 0 });
    expect(r.mirrors[0].uploaded).to.have.length(1);
    const ix = await readIndex(ftp.pub);
    expect(ix.sequence).to.equal(1);
    expect(ix.artifacts.map((a) => [a.name, a.version, a.pkgid, a.arch])).to.deep.equal([['hello', '1.0', pkgid, 'x86_64']]);
    const a = ix.artifacts[0];
    // what `mpm install --mirror` resolves with: the declared dependencies, installed_size, the manifest's sha256
    // the blob's bytes as they are (execa strips a final newline unless told not to)
    const committed = async (rel: string) => Buffer.from((await execa('git', ['-C', s.ctx.layout.store, 'cat-file', 'blob', `HEAD:${rel}`], { encoding: 'buffer', stripFinalNewline: false })).stdout);
    const info = JSON.parse((await committed(storePaths.submissionInfo(pkgid))).toString('utf8'));
    const status = JSON.parse((await committed(storePaths.status(pkgid))).toString('utf8'));
    expect(a.dependencies).to.deep.equal(info.dependencies);
    expect(a.installed_size).to.be.a('number').and.equal(status.builds?.x86_64?.build?.installed_size ?? status.build.installed_size);
    expect(a.manifest_sha256).to.equal(createHash('sha256').update(await committed(`${storePaths.binaries(pkgid, 'x86_64')}/manifest.json`)).digest('hex'));
    expect(await readFile(path.join(ftp.pub, a.path))).to.deep.equal(await readFile(path.join(s.ctx.layout.publish, 'artifacts', a.path)));
    expect(existsSync(path.join(ftp.pub, a.sig_path))).to.equal(true);
    expect((await filesUnder(ftp.pub)).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
    oldIndex = await readFile(path.join(ftp.pub, 'index.json'), 'utf8');

    const out = path.join(work, 'x1');
    const g = await get({ spec: 'hello', extract: out });
    expect(g).to.include({ name: 'hello', version: '1.0', pkgid, sequence: 1 });
    expect(await readFile(path.join(out, 'usr/bin/hello'), 'utf8')).to.equal('hello binary\n');

    const again = (await pub.runOnce({ force: true, wait: true }))!;
    expect(again.built).to.equal(0);
    expect(again.mirrors[0]).to.include({ index: null, pending: 0 });
    expect(again.mirrors[0].uploaded).to.deep.equal([]);
  });

  it('resumes an upload cut by killing the FTP server; the index never names a missing artifact', async () => {
    const pkgid = await goodSubmission(s, who, 'hello', '2.0', { 'usr/bin/hello': big });
    await ftp.kill();
    await ftp.start({ maxRate: 256 * 1024 });
    const round = pub.runOnce({ force: true, wait: true });
    let part = '';
    for (const until = Date.now() + 60_000; !part && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      for (const f of await filesUnder(ftp.pub)) if (f.endsWith('.enc.part') && (await stat(f)).size > 200_000) part = f;
    }
    expect(part, 'a partial upload').to.not.equal('');
    await ftp.kill();
    const cut = (await round)!;
    expect(cut.mirrors[0].failed.length).to.be.greaterThan(0);
    const entry = (await pub.catalog.entries()).find((e) => e.pkgid === pkgid)!;
    expect(existsSync(path.join(ftp.pub, entry.path)), 'no partial file under the final name').to.equal(false);
    expect((await stat(part)).size).to.be.lessThan(entry.size);
    expect((await readIndex(ftp.pub)).artifacts.map((a) => a.pkgid)).to.not.include(pkgid);
    const st = (await pub.status())[0];
    expect(st.pending).to.include(entry.path);
    expect(st.failed.map((f) => f.path)).to.include(entry.path);

    await ftp.start();
    const done = (await pub.runOnce({ force: true, wait: true }))!;
    expect(done.mirrors[0].uploaded).to.deep.equal([entry.path]);
    expect(done.mirrors[0].resumed).to.have.length(1);
    expect(done.mirrors[0].resumed[0].from).to.be.greaterThan(0);
    expect(await readFile(path.join(ftp.pub, entry.path))).to.deep.equal(await readFile(path.join(s.ctx.layout.publish, 'artifacts', entry.path)));
    const ix = await readIndex(ftp.pub);
    expect(ix.sequence).to.equal(2);
    expect(ix.artifacts.map((a) => a.pkgid)).to.include(pkgid);
    expect((await pub.status())[0]).to.deep.include({ pending: [], failed: [] });

    const g = await get({ spec: 'hello@2.0', extract: path.join(work, 'x2') });
    expect(g.sequence).to.equal(2);
    expect(await readFile(path.join(work, 'x2', 'usr/bin/hello'))).to.deep.equal(big);
    expect((await get({ spec: 'hello', output: path.join(work, 'best.tar.zst') })).version).to.equal('2.0');
  });

  const pathOf = async (version: string) => (await readIndex(ftp.pub)).artifacts.find((a) => a.version === version)!;
  const tampers: Array<[string, string, () => Promise<void | Partial<MirrorGetOptions>>]> = [
    ['a changed index payload', 'signature_invalid', async () => {
      const f = path.join(ftp.pub, 'index.json');
      const env = JSON.parse(await readFile(f, 'utf8'));
      env.payload = env.payload.replace(/"size":(\d+)/, (_m: string, n: string) => `"size":${Number(n) + 1}`);
      await writeFile(f, JSON.stringify(env));
    }],
    ['a changed artifact byte', 'digest_mismatch', async () => {
      const f = path.join(ftp.pub, (await pathOf('2.0')).path);
      const b = await readFile(f);
      b[b.length >> 1] ^= 0x01;
      await writeFile(f, b);
    }],
    ['an index re-signed by an unknown key', 'unknown_key', async () => {
      const ix = await readIndex(ftp.pub);
      const k = generateKeyPairSync('ed25519');
      await writeFile(path.join(ftp.pub, 'index.json'), signIndex({ ...ix, sequence: ix.sequence + 10 }, k.privateKey, signingKeyId(k.publicKey)));
    }],
    ['a changed detached signature', 'signature_invalid', async () => {
      const f = path.join(ftp.pub, (await pathOf('2.0')).sig_path);
      const sig = JSON.parse(await readFile(f, 'utf8'));
      const raw = Buffer.from(sig.signature, 'base64');
      raw[0] ^= 0x01;
      await writeFile(f, JSON.stringify({ ...sig, signature: raw.toString('base64') }));
    }],
    ['a replayed older index', 'index_replayed', async () => { await writeFile(path.join(ftp.pub, 'index.json'), oldIndex); }],
    ['an expired index', 'index_expired', async () => ({ now: new Date(Date.now() + 30 * 86_400_000) })],
    ['an artifact under a content key the client lacks', 'unknown_key', async () => {
      const other = path.join(work, 'other-keys.json');
      await writeFile(other, JSON.stringify({ format: 'morphux-content-keys-v1', keys: [{ id: '0000000000000000', key: randomBytes(32).toString('base64') }] }));
      return { contentKeysFile: other };
    }],
  ];
  /** Runs `tamper` on the mirror, expects `code` from mpm and nothing written; puts the mirror back. */
  async function expectRefused(code: string, tamper: () => Promise<void | Partial<MirrorGetOptions>>, spec = 'hello@2.0'): Promise<void> {
    const snapshot = path.join(work, 'snapshot');
    await rm(snapshot, { recursive: true, force: true });
    await cp(ftp.pub, snapshot, { recursive: true });
    const stateBefore = await readFile(stateFile, 'utf8');
    const out = path.join(work, `refused-${code}`);
    try {
      const extra = (await tamper()) ?? {};
      let err: unknown = null;
      try {
        await get({ spec, output: out, ...extra });
      } catch (e) {
        err = e;
      }
      expect(isMorphuxError(err), String(err)).to.equal(true);
      expect((err as { code: string }).code).to.equal(code);
      expect(existsSync(out)).to.equal(false);
      expect(await readFile(stateFile, 'utf8')).to.equal(stateBefore);
      expect((await readdir(work)).filter((f) => f.includes('.part'))).to.deep.equal([]);
    } finally {
      await rm(ftp.pub, { recursive: true, force: true });
      await cp(snapshot, ftp.pub, { recursive: true });
      await ftp.ownPub();
    }
  }
  for (const [what, code, tamper] of tampers) {
    it(`mpm refuses ${what} (${code}) and writes nothing`, () => expectRefused(code, tamper));
  }

  it('keys rotate: the old key signs a statement naming the new one, on the mirror before any index the new key signs; mpm pinning only the old key follows it', async () => {
    const before = (await pub.catalog.entries()).map((e) => e.path);
    const seqBefore = (await readIndex(ftp.pub)).sequence;
    const rotated = await pub.keys.rotate();
    expect(rotated.rotation).to.equal(1);
    const pkgid = await goodSubmission(s, who, 'hello', '3.0', { 'usr/bin/hello': 'three\n' });
    // a keys/ folder the FTP user cannot write to (root's, 0755): the statement cannot go up, so the new index must not either
    await mkdir(path.join(ftp.pub, 'keys'));
    const blocked = (await pub.runOnce({ force: true, wait: true }))!;
    expect(blocked.mirrors[0].failed.map((f) => f.path)).to.deep.equal(['keys/rotation-1.json']);
    expect(blocked.mirrors[0].index).to.equal(null);
    expect((await readIndex(ftp.pub)).sequence).to.equal(seqBefore);
    expect((await pub.status())[0].pending).to.deep.equal(['keys/rotation-1.json']);

    await ftp.ownPub();
    const r = (await pub.runOnce({ force: true, wait: true }))!;
    expect(r.mirrors[0].failed).to.deep.equal([]);
    expect(r.mirrors[0].uploaded).to.deep.equal(['keys/rotation-1.json']);
    expect(r.mirrors[0].index).to.be.greaterThan(seqBefore);
    expect(JSON.parse(await readFile(path.join(ftp.pub, 'index.json'), 'utf8')).key_id).to.equal(rotated.signing);
    const statement = JSON.parse(await readFile(path.join(ftp.pub, 'keys/rotation-1.json'), 'utf8'));
    expect(statement).to.include({ number: 1, old_key_id: signingKeyId(parsePublicKey(publicKey)), new_key_id: rotated.signing });
    const ix = await readIndex(ftp.pub);
    expect(ix.artifacts.find((a) => a.pkgid === pkgid)).to.include({ key_id: rotated.content, signing_key_id: rotated.signing });
    for (const p of before) expect(existsSync(path.join(ftp.pub, p)), p).to.equal(true);
    await writeFile(contentKeys, JSON.stringify(await pub.keys.contentKeysFile()));
    // pinned: only the old key; the index and 3.0 are signed by the new one, 1.0 by the old
    for (const spec of ['hello@3.0', 'hello@1.0']) {
      const g = await get({ spec, output: path.join(work, `rot-${spec}`) });
      expect(g.version).to.equal(spec.split('@')[1]);
    }
    expect((await get({ spec: 'hello@3.0', extract: path.join(work, 'rot-x') })).pkgid).to.equal(pkgid);
    expect(await readFile(path.join(work, 'rot-x', 'usr/bin/hello'), 'utf8')).to.equal('three\n');
  });

  const attacker = generateKeyPairSync('ed25519');
  const attackerId = signingKeyId(attacker.publicKey);
  const forge = async (number: number, oldKeyId: string) => {
    const r = signRotation({ number, oldKeyId, oldPrivateKey: attacker.privateKey, newPublicKey: attacker.publicKey, rotatedAt: new Date().toISOString() });
    await writeFile(path.join(ftp.pub, `keys/rotation-${number}.json`), r.json);
    await writeFile(path.join(ftp.pub, `keys/rotation-${number}.json.sig`), r.sig);
    const ix = await readIndex(ftp.pub);
    await writeFile(path.join(ftp.pub, 'index.json'), signIndex({ ...ix, sequence: ix.sequence + 10 }, attacker.privateKey, attackerId));
  };
  const forgeries: Array<[string, string, () => Promise<void>]> = [
    ['a next rotation statement signed by a key it does not trust', 'unknown_key', () => forge(2, attackerId)],
    ['a next rotation statement claiming the current key but signed by another', 'signature_invalid', async () => {
      await forge(2, JSON.parse(await readFile(path.join(ftp.pub, 'keys/rotation-1.json'), 'utf8')).new_key_id);
    }],
    ['the first rotation statement replaced, claiming the old key', 'signature_invalid', () => forge(1, signingKeyId(parsePublicKey(publicKey)))],
  ];
  for (const [what, code, tamper] of forgeries) {
    it(`mpm pinning the old key refuses ${what} with an index signed by its key (${code}), writes nothing`, () => expectRefused(code, tamper, 'hello@3.0'));
  }

  it('mpm gets from the same mirror served over HTTP (rotation chain included) and refuses a changed artifact there too', async () => {
    const web = await serveFolder(ftp.pub);
    try {
      const g = await get({ mirror: `${web.url}/`, spec: 'hello@2.0', extract: path.join(work, 'http-x') });
      expect(g).to.include({ mirror: web.url, version: '2.0' });
      expect(await readFile(path.join(work, 'http-x', 'usr/bin/hello'))).to.deep.equal(big);
      expect((await get({ mirror: web.url, spec: 'hello@3.0', output: path.join(work, 'http-3.tar.zst') })).version).to.equal('3.0');
      await expectRefused('digest_mismatch', async () => {
        const f = path.join(ftp.pub, (await pathOf('3.0')).path);
        const b = await readFile(f);
        b[b.length - 20] ^= 0x01;
        await writeFile(f, b);
        return { mirror: web.url };
      }, 'hello@3.0');
      await expectRefused('not_found', async () => {
        await rm(path.join(ftp.pub, (await pathOf('3.0')).sig_path));
        return { mirror: web.url };
      }, 'hello@3.0');
    } finally {
      await web.close();
    }
  });

  const corruptions: Array<[string, string, (b: Buffer) => Buffer]> = [
    ['a partial upload with a changed byte, resumed with APPE', '4.0', (b) => { const p = Buffer.from(b.subarray(0, b.length >> 1)); p[100] ^= 0x01; return p; }],
    ['a full-size leftover with a changed byte', '4.1', (b) => { const p = Buffer.from(b); p[p.length - 100] ^= 0x01; return p; }],
  ];
  for (const [what, version, corrupt] of corruptions) {
    it(`an upload checked by sha256 before its rename: ${what} on the server's disk is caught, removed, then uploaded whole`, async () => {
      const pkgid = await goodSubmission(s, who, 'hello', version, { 'usr/bin/hello': randomBytes(400_000) });
      await pub.catalog.refresh(pub.keys, 'zstd', silentLogger);
      const entry = (await pub.catalog.entries()).find((e) => e.pkgid === pkgid)!;
      const local = await readFile(pub.paths.local(entry.path));
      const part = path.join(ftp.pub, path.dirname(entry.path), `.${path.basename(entry.path)}.part`);
      await mkdir(path.dirname(part), { recursive: true });
      await writeFile(part, corrupt(local));
      await ftp.ownPub();
      const seq = (await readIndex(ftp.pub)).sequence;

      const caught = (await pub.runOnce({ force: true, wait: true }))!;
      expect(caught.mirrors[0].failed.map((f) => f.path)).to.deep.equal([entry.path]);
      expect((await pub.status())[0].failed).to.have.length(1);
      expect((await pub.status())[0].failed[0]).to.include({ path: entry.path, code: 'digest_mismatch' });
      expect(existsSync(path.join(ftp.pub, entry.path)), 'never under its final name').to.equal(false);
      expect(existsSync(part), 'the bad temporary file is removed').to.equal(false);
      expect((await readIndex(ftp.pub)).artifacts.map((a) => a.pkgid)).to.not.include(pkgid);
      expect((await readIndex(ftp.pub)).sequence).to.equal(seq);

      const done = (await pub.runOnce({ force: true, wait: true }))!;
      expect(done.mirrors[0]).to.deep.include({ uploaded: [entry.path], resumed: [], failed: [] });
      expect(await readFile(path.join(ftp.pub, entry.path))).to.deep.equal(local);
      expect((await readIndex(ftp.pub)).artifacts.map((a) => a.pkgid)).to.include(pkgid);
    });
  }

  it('catalog entries built before the resolution fields existed get them, and a new index names them; nothing is uploaded again', async () => {
    const catalog = JSON.parse(await readFile(pub.paths.catalog, 'utf8')) as { artifacts: Array<Record<string, unknown>> };
    const want = catalog.artifacts.map((e) => [e.pkgid, e.dependencies, e.installed_size, e.manifest_sha256]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(want.every(([, deps, size, sha]) => deps !== undefined && size !== undefined && typeof sha === 'string')).to.equal(true);
    for (const e of catalog.artifacts) { delete e.dependencies; delete e.installed_size; delete e.manifest_sha256; }
    await writeFile(pub.paths.catalog, JSON.stringify(catalog));
    // and the mirror holds an index made from those entries (any other digest than the one of today's entries)
    const state = JSON.parse(await readFile(pub.paths.mirrorState('main'), 'utf8'));
    await writeFile(pub.paths.mirrorState('main'), JSON.stringify({ ...state, index: { ...state.index, digest: '0'.repeat(64) } }));
    const seq = (await readIndex(ftp.pub)).sequence;
    const r = (await pub.runOnce({ force: true, wait: true }))!;
    expect(r.mirrors[0]).to.deep.include({ uploaded: [], failed: [] });
    expect(r.mirrors[0].index).to.be.greaterThan(seq);
    const ix = await readIndex(ftp.pub);
    expect(ix.artifacts.map((e) => [e.pkgid, e.dependencies, e.installed_size, e.manifest_sha256])).to.deep.equal(want);
    const back = (await pub.catalog.entries()).map((e) => [e.pkgid, e.dependencies, e.installed_size, e.manifest_sha256]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(back).to.deep.equal(want);
    expect((await get({ spec: 'hello@2.0', output: path.join(work, 'backfilled.tar.zst') })).version).to.equal('2.0');
  });
});
