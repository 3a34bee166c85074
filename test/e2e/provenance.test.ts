// Signed build provenance through the real server, without a VM: good builds are recorded by the
// store's one status update that commits binaries (support/good-submission.ts, with the run facts
// of the instance's build host), which writes binaries/<arch>/provenance.dsse.json in the build's
// commit, signed with the publishing key. Then: GET /api/v1/pkg/<pkgid>/provenance/<arch>
// verifies and names what the install plan names; `mpm info --provenance` shows it; `mpm install
// --require-provenance` installs, and refuses (exit 1, nothing under --root) an untrusted key,
// provenance changed in the store, provenance naming other digests or dependencies, a build
// without provenance and one recorded unsigned (before the instance had a key).
import { expect } from 'chai';
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { summarize } from '../../src/domain/provenance-check.js';
import { provenanceEnvelope, verifyProvenance, type ProvenanceStatement } from '../../src/domain/provenance-statement.js';
import { formatPublicKey, parsePublicKey, signingKeyId } from '../../src/domain/signed-index.js';
import type { SubmissionInfo } from '../../src/domain/submission.js';
import { PublishKeys } from '../../src/publish/publish-keys.js';
import { publishPaths } from '../../src/publish/publish-paths.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { bundleClis, cliErrorCode, expectOneLine, runCli } from '../support/cli-bin.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { listing } from '../support/install-plan-server.js';
import { baseRoot, greet as greetPkg, IGNORED, libgreet } from '../support/mpm-install-fixtures.js';
import { api, startTestServer, type TestServer } from '../support/test-server.js';

describe('build provenance: recorded with the build, served, verified by mpm', function () {
  this.timeout(300_000);
  let s: TestServer;
  let tmp: string;
  let keys: PublishKeys;
  let publicKey: string;
  let keyId: string;
  let lib = 0;
  let greet = 0;
  let early = 0;
  const wrongKey = formatPublicKey(generateKeyPairSync('ed25519').publicKey);

  const mpm = (args: string[], env: Record<string, string> = {}) => runCli('mpm', args, {
    cwd: tmp, env: { MPM_SERVER: s.url, MPM_TOKEN: '', XDG_CONFIG_HOME: path.join(tmp, 'config'), XDG_DATA_HOME: path.join(tmp, 'data'), ...env },
  });
  const provenancePath = (pkgid: number) => `${storePaths.binaries(pkgid, 'x86_64')}/provenance.dsse.json`;
  const committed = async (pkgid: number) => Buffer.from((await execa('git', ['show', `HEAD:${provenancePath(pkgid)}`], { cwd: s.ctx.layout.store, encoding: 'buffer', stripFinalNewline: false })).stdout);
  /** replaces a committed provenance file, as someone with write access to the store would */
  const replace = (pkgid: number, bytes: Buffer | string) => s.ctx.store.transact(`test: replace the provenance of ${pkgid}`, 'test', (tx) => tx.write(provenancePath(pkgid), bytes));
  const plan = async () => (await api(s.url, 'GET', '/api/v1/install?pkg=greet&arch=x86_64')).json;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-provenance-'));
    s = await startTestServer({ worker: false });
    // built before the instance had a publishing key: its provenance is recorded unsigned
    early = await goodSubmission(s, await maintainer(s, 'early'), 'early', '1.0', { 'usr/bin/early': 'early\n' });
    keys = new PublishKeys(publishPaths(s.ctx.layout.publish));
    await keys.init();
    publicKey = (await keys.publicKeys())[0].public_key;
    keyId = signingKeyId(parsePublicKey(publicKey));
    // binaries as the builder packs them (folders, links in the manifest), so that mpm installs them
    lib = await goodSubmission(s, await maintainer(s, 'libgreet'), 'libgreet', '1.0', {}, { fixture: 'libgreet', built: (id) => libgreet(id) });
    greet = await goodSubmission(s, await maintainer(s, 'greet'), 'greet', '1.0', {}, { fixture: 'greet', built: (id) => greetPkg(id, '1.0'), resolvedDependencies: [lib] });
    await bundleClis();
  });
  after(async () => {
    await s?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('commits the provenance in the build\'s own commit, beside the binaries and manifest', async () => {
    const dir = storePaths.binaries(greet, 'x86_64');
    const last = async (f: string) => (await execa('git', ['log', '-1', '--format=%H', '--', `${dir}/${f}`], { cwd: s.ctx.layout.store })).stdout;
    const commit = await last('files.tar.gz');
    expect(commit).to.match(/^[0-9a-f]{40}$/);
    expect(await last('provenance.dsse.json')).to.equal(commit);
    expect(await last('manifest.json')).to.equal(commit);
    expect(await last('../../meta/status.json')).to.equal(commit);
  });

  it('GET /api/v1/pkg/<pkgid>/provenance/<arch>: a DSSE envelope, signed by the publishing key, naming what the plan installs', async () => {
    const res = await s.request(`/api/v1/pkg/${greet}/provenance/x86_64`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(await committed(greet))).to.equal(true);
    expect(res.headers.get('etag')).to.match(/^"[0-9a-f]{64}"$/);
    expect((await s.request(`/api/v1/pkg/${greet}/provenance/x86_64`, { headers: { 'if-none-match': res.headers.get('etag')! } })).status).to.equal(304);
    const env = JSON.parse(body.toString('utf8'));
    expect(env.payloadType).to.equal('application/vnd.in-toto+json');
    expect(env.signatures.map((x: { keyid: string }) => x.keyid)).to.deep.equal([keyId]);

    const { statement, keyId: by } = verifyProvenance(body, new Map([[keyId, parsePublicKey(publicKey)]]));
    expect(by).to.equal(keyId);
    expect(statement._type).to.equal('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).to.equal('https://slsa.dev/provenance/v1');
    const p = await plan();
    const [pl, pg] = p.packages;
    const sum = summarize(statement);
    expect(sum).to.deep.include({ name: 'greet', version: '1.0', pkgid: greet, arch: 'x86_64', binaries_sha256: pg.binaries.sha256, manifest_sha256: pg.manifest.sha256 });
    expect(sum.dependencies).to.deep.equal([{ pkgid: lib, name: 'libgreet', version: '1.0', binaries_sha256: pl.binaries.sha256 }]);
    const info = (await api(s.url, 'GET', `/api/v1/pkg/${greet}`)).json.submission as SubmissionInfo;
    expect(info.source.type).to.equal('git');
    expect(sum.source).to.deep.equal({ uri: `git+${s.url}/greet.git@${(info.source as { ref: string }).ref}`, digest: { gitCommit: (info.source as { commit: string }).commit } });
    const params = statement.predicate.buildDefinition.externalParameters as any;
    expect(params.source).to.deep.equal({ repo: `${s.url}/greet.git`, ref: (info.source as { ref: string }).ref, commit: (info.source as { commit: string }).commit });
    expect(params.dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
    const portpkg = statement.predicate.buildDefinition.resolvedDependencies.find((d) => d.name === 'portpkg.tgz');
    expect(portpkg?.digest).to.deep.equal({ sha256: info.sha256 });
    expect(sum.builder_id).to.equal(`${s.url}/builders/embedded`);
    expect(Date.parse(sum.finished_on!)).to.be.a('number').and.not.NaN;
  });

  it('answers 404 not_found with the error shape where there is none', async () => {
    for (const p of [`/api/v1/pkg/${greet}/provenance/aarch64`, '/api/v1/pkg/99999/provenance/x86_64', `/api/v1/pkg/${greet}/provenance/..`, '/api/v1/pkg/x/provenance/x86_64']) {
      const r = await api(s.url, 'GET', p);
      expect(r.status, p).to.equal(404);
      expect(r.json.error.code, p).to.equal('not_found');
      expect(r.json.error.message, p).to.be.a('string');
    }
  });

  it('mpm info --provenance shows it verified; refuses it without, or with only a wrong, trusted key', async () => {
    const r = await mpm(['info', '--provenance', String(greet), '--public-key', publicKey]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include(`greet 1.0 (pkgid ${greet}, x86_64): provenance verified, signed by key ${keyId}`);
    expect(r.out).to.include(`libgreet 1.0 (pkgid ${lib})`);
    const j = await mpm(['info', '--provenance', `${s.url}/pkg/${greet}`, '--arch', 'x86_64', '--json'], { MPM_PUBLIC_KEYS: publicKey });
    expect(j.code, j.err).to.equal(0);
    const shown = JSON.parse(j.out);
    expect(shown).to.deep.include({ pkgid: greet, arch: 'x86_64', verified: true, key_id: keyId });
    expect(shown.summary.dependencies.map((d: { pkgid: number }) => d.pkgid)).to.deep.equal([lib]);

    const none = await mpm(['info', '--provenance', String(greet)]);
    expect([none.code, cliErrorCode(none)]).to.deep.equal([1, 'bad_request']);
    const wrong = await mpm(['info', '--provenance', String(greet), '--public-key', wrongKey]);
    expect([wrong.code, cliErrorCode(wrong)]).to.deep.equal([1, 'provenance_invalid']);
    expectOneLine(wrong.err);
    const unsigned = await mpm(['info', '--provenance', String(early), '--public-key', publicKey]);
    expect([unsigned.code, cliErrorCode(unsigned)]).to.deep.equal([1, 'provenance_invalid']);
    expect(unsigned.err).to.match(/not signed/);
    const missing = await mpm(['info', '--provenance', String(greet), '--arch', 'aarch64', '--public-key', publicKey]);
    expect([missing.code, cliErrorCode(missing)]).to.deep.equal([1, 'provenance_missing']);
  });

  it('mpm install --require-provenance installs when every package\'s provenance checks out', async () => {
    const R = await baseRoot(tmp, 'ok');
    const r = await mpm(['install', 'greet', '--require-provenance', '--public-key', publicKey, '--root', R, '--yes']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include(`installed libgreet 1.0 (pkgid ${lib}) as a dependency`).and.include(`installed greet 1.0 (pkgid ${greet})`);
    expect(await readFile(path.join(R, 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
    // the requirement from the mpm config, the key from the environment
    const R2 = await baseRoot(tmp, 'ok-config');
    const cfgDir = path.join(tmp, 'cfg-require');
    await mkdir(path.join(cfgDir, 'mpm'), { recursive: true });
    await writeFile(path.join(cfgDir, 'mpm', 'config.json'), JSON.stringify({ require_provenance: true }));
    const c = await mpm(['install', 'greet', '--root', R2, '--yes'], { XDG_CONFIG_HOME: cfgDir, MPM_PUBLIC_KEYS: publicKey });
    expect(c.code, c.err).to.equal(0);
    const noKey = await mpm(['install', 'greet', '--root', await baseRoot(tmp, 'no-key'), '--yes'], { XDG_CONFIG_HOME: cfgDir });
    expect([noKey.code, cliErrorCode(noKey)]).to.deep.equal([1, 'bad_request']);
  });

  /** An install that must be refused with `code`, leaving a fresh root exactly as it was. */
  async function refusedInstall(name: string, code: string, args: string[] = ['--public-key', publicKey], spec = 'greet'): Promise<string> {
    const R = await baseRoot(tmp, name);
    const before = await listing(R, { ignore: IGNORED });
    const r = await mpm(['install', spec, '--require-provenance', ...args, '--root', R, '--yes']);
    expect(r.code, r.out).to.equal(1);
    expect(cliErrorCode(r), r.err).to.equal(code);
    expectOneLine(r.err);
    expect(await listing(R, { ignore: IGNORED }), name).to.deep.equal(before);
    expect(existsSync(path.join(R, 'var/lib/mpm/installed/greet.json'))).to.equal(false);
    expect(existsSync(path.join(R, 'var/lib/mpm/installed/libgreet.json'))).to.equal(false);
    return r.err;
  }

  it('refuses, writing nothing, under a wrong trusted key', async () => {
    const err = await refusedInstall('wrong-key', 'provenance_invalid', ['--public-key', wrongKey]);
    expect(err).to.match(/not trusted/);
  });

  it('refuses a build without provenance, and one recorded unsigned', async () => {
    await refusedInstall('unsigned', 'provenance_invalid', ['--public-key', publicKey], 'early');
    const original = await committed(lib);
    await s.ctx.store.transact('test: remove the provenance of libgreet', 'test', (tx) => tx.remove(provenancePath(lib)));
    try {
      const err = await refusedInstall('missing', 'provenance_missing');
      expect(err).to.include(`libgreet 1.0 (pkgid ${lib}`);
    } finally {
      await replace(lib, original);
    }
  });

  it('refuses provenance changed in the store: a changed byte, other digests, other dependencies', async () => {
    const original = await committed(greet);
    const env = JSON.parse(original.toString('utf8'));
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as ProvenanceStatement;
    const signing = await keys.signingKey();
    try {
      // the payload changed under the old signature
      const changed = structuredClone(statement);
      changed.subject[0].digest.sha256 = 'f'.repeat(64);
      await replace(greet, JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }));
      expect(await refusedInstall('tampered', 'provenance_invalid')).to.match(/does not verify/);

      // validly signed, but of other binaries than the plan's
      await replace(greet, provenanceEnvelope(changed, signing));
      expect(await refusedInstall('other-binaries', 'provenance_mismatch')).to.match(/binaries/);

      // validly signed, but built against another libgreet than the plan installs
      const otherDep = structuredClone(statement);
      for (const d of otherDep.predicate.buildDefinition.resolvedDependencies) {
        if ((d.annotations as { kind?: string } | undefined)?.kind === 'dependency') (d.annotations as { pkgid: number }).pkgid = lib + 1000;
      }
      await replace(greet, provenanceEnvelope(otherDep, signing));
      expect(await refusedInstall('other-dependency', 'provenance_mismatch')).to.include(`the plan installs libgreet pkgid ${lib}`);

      // the same statement, built from scratch, passes: the checks are the statement's, not the bytes'
      await replace(greet, provenanceEnvelope(statement, signing));
      const R = await baseRoot(tmp, 'restored');
      const ok = await mpm(['install', 'greet', '--require-provenance', '--public-key', publicKey, '--root', R, '--yes']);
      expect(ok.code, ok.err).to.equal(0);
    } finally {
      await replace(greet, original);
    }
  });
});
