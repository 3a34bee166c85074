// Build provenance on a real FTP mirror (Debian's vsftpd on loopback), through `mpm` as users run
// it: the publisher puts each build's signed provenance (the DSSE envelope committed beside its
// binaries, in clear) beside its artifact and the signed index names it (provenance_path, _size,
// _sha256, and binaries_sha256, the archive it names); `mpm get --mirror --require-provenance` and
// `mpm install|upgrade --mirror --require-provenance` (or MPM_REQUIRE_PROVENANCE) check it. Each
// refusal is asserted by its code (and, through mpmMirrorGet in-process, its data.reason or
// data.field), with one line on stderr, nothing under the root, no output file, and the replay
// state as it was. Without the requirement, a mirror without provenance installs as before.
import { expect } from 'chai';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { summarize } from '../../src/domain/provenance-check.js';
import { provenanceEnvelope, verifyProvenance, type ProvenanceStatement } from '../../src/domain/provenance-statement.js';
import { parsePublicKey, signingKeyId, type IndexEntry } from '../../src/domain/signed-index.js';
import { mpmMirrorGet } from '../../src/mpm/commands/mirror-get.js';
import { cliErrorCode, expectOneLine } from '../support/cli-bin.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { listing } from '../support/install-plan-server.js';
import { baseRoot, greet, LIB_SO, libgreet } from '../support/mpm-install-fixtures.js';
import { PublishedMirror } from '../support/published-mirror.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PROVENANCE_FIELDS = ['provenance_path', 'provenance_size', 'provenance_sha256'] as const;

describe('mirror provenance: mpm get|install|upgrade --mirror --require-provenance over a real FTP mirror', function () {
  this.timeout(300_000);
  const m = new PublishedMirror('mirror-provenance-');
  const ids: Record<string, number> = {};
  let greetM: { user: string; token: string };
  let keyId = '';
  /** a root with greet 1.0 installed from the mirror with provenance required (the upgrade's) */
  let installed = '';

  const flag = ['--require-provenance'];
  const entry = async (name: string) => (await m.readIndex()).artifacts.filter((a) => a.name === name).sort((a, b) => b.pkgid - a.pkgid)[0];
  const db = async (root: string, name: string) => JSON.parse(await readFile(path.join(root, 'var/lib/mpm/installed', `${name}.json`), 'utf8'));
  const onMirror = (rel: string) => path.join(m.dir, rel);
  /** puts `bytes` at `e`'s provenance_path and re-signs the index to name them (size, sha256) */
  const replaceProvenance = async (e: IndexEntry, bytes: Buffer | string) => {
    const b = Buffer.from(bytes);
    await writeFile(onMirror(e.provenance_path!), b);
    await m.resign((as) => { Object.assign(as.find((a) => a.pkgid === e.pkgid)!, { provenance_size: b.length, provenance_sha256: sha256(b) }); });
  };
  /** the statement of a build's provenance as committed */
  const statementOf = async (pkgid: number) => {
    const env = JSON.parse((await m.committed(pkgid, 'provenance.dsse.json')).toString('utf8'));
    return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as ProvenanceStatement;
  };
  const withoutProvenance = (name: string) => m.resign((as) => { for (const a of as) if (a.name === name) for (const f of PROVENANCE_FIELDS) delete a[f]; });

  before(async () => {
    await m.start();
    keyId = signingKeyId(parsePublicKey(m.publicKey));
    // the installer tests' packages, built good with the publishing key in place (signed
    // provenance), greet's naming the libgreet it was built against
    ids.libgreet = await goodSubmission(m.s, await maintainer(m.s, 'libgreet'), 'libgreet', '1.0', {}, { fixture: 'libgreet', built: (id) => libgreet(id) });
    greetM = await maintainer(m.s, 'greet');
    ids.greet = await goodSubmission(m.s, greetM, 'greet', '1.0', {}, { fixture: 'greet', built: (id) => greet(id, '1.0'), resolvedDependencies: [ids.libgreet] });
    await m.publish();
  });
  after(() => m.close());

  it('publishes each build\'s provenance beside its artifact, in clear, as committed, named by the signed index with its size and sha256', async () => {
    const ix = await m.readIndex();
    expect(ix.artifacts.map((a) => a.name).sort()).to.deep.equal(['greet', 'libgreet']);
    for (const a of ix.artifacts) {
      expect(a.provenance_path, a.name).to.match(new RegExp(`^pool/${a.name[0]}/${a.name}/${a.name}_${a.version}_${a.pkgid}_x86_64\\.[0-9a-f]{12}\\.provenance\\.dsse\\.json$`));
      const bytes = await readFile(onMirror(a.provenance_path!));
      expect([bytes.length, sha256(bytes)], a.name).to.deep.equal([a.provenance_size, a.provenance_sha256]);
      expect(a.provenance_path!.split('.').at(-4), 'named by its hash').to.equal(a.provenance_sha256!.slice(0, 12));
      expect(bytes.equals(await m.committed(a.pkgid, 'provenance.dsse.json')), `${a.name}: the committed bytes`).to.equal(true);
      // binaries_sha256: the archive as committed (the artifact is its tar recompressed, so its own sha256 differs)
      expect(a.binaries_sha256).to.equal(sha256(await m.committed(a.pkgid, 'files.tar.gz'))).and.not.equal(a.sha256);
      // anyone with the public key checks it: signed by the publishing key, naming what the index names
      const { statement, keyId: by } = verifyProvenance(bytes, new Map([[keyId, parsePublicKey(m.publicKey)]]));
      expect(by).to.equal(keyId);
      expect(summarize(statement)).to.deep.include({ name: a.name, version: a.version, pkgid: a.pkgid, arch: a.arch, binaries_sha256: a.binaries_sha256, manifest_sha256: a.manifest_sha256 });
    }
    const g = ix.artifacts.find((a) => a.name === 'greet')!;
    expect(summarize(verifyProvenance(await readFile(onMirror(g.provenance_path!)), new Map([[keyId, parsePublicKey(m.publicKey)]])).statement).dependencies.map((d) => d.pkgid)).to.deep.equal([ids.libgreet]);
  });

  it('install --mirror --require-provenance greet: greet and libgreet installed, each one\'s provenance checked; the replay state moves', async () => {
    installed = await baseRoot(m.work, 'root-installed');
    const r = await m.mpm(['install', '--mirror', m.mirror, 'greet', '--require-provenance', '--root', installed, '--yes', ...m.trust()]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include(`installed libgreet 1.0 (pkgid ${ids.libgreet}) as a dependency`).and.include(`installed greet 1.0 (pkgid ${ids.greet})`);
    expect(await readFile(path.join(installed, 'usr/lib/libgreet.so'), 'utf8')).to.equal(LIB_SO);
    expect(await readFile(path.join(installed, 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
    expect(await db(installed, 'greet')).to.include({ pkgid: ids.greet, version: '1.0' });
    expect((await m.mpm(['verify', '--root', installed])).code).to.equal(0);
    expect(JSON.parse(await readFile(m.stateFile, 'utf8'))[m.mirror].sequence).to.equal((await m.readIndex()).sequence);
  });

  it('get --mirror --require-provenance greet: the artifact written (--output) or unpacked (--extract), naming the key that signed the provenance', async () => {
    const dir = await mkdtemp(path.join(m.work, 'get-'));
    const F = path.join(dir, 'greet.tar.zst');
    const r = await m.mpm(['get', 'greet', '--mirror', m.mirror, '--require-provenance', '--output', F, '--json', ...m.trust()]);
    expect(r.code, r.err).to.equal(0);
    const e = await entry('greet');
    expect(JSON.parse(r.out)).to.deep.include({ name: 'greet', version: '1.0', pkgid: ids.greet, arch: 'x86_64', file: F, extracted: null, sha256: e.sha256, provenance_key_id: keyId });
    expect((await readFile(F)).length).to.be.greaterThan(0);
    const text = await m.mpm(['get', 'greet', '--mirror', m.mirror, '--require-provenance', '--extract', path.join(dir, 'x'), ...m.trust()]);
    expect(text.code, text.err).to.equal(0);
    expect(text.out).to.include(`greet 1.0 (pkgid ${ids.greet}, x86_64)`).and.include('verified');
    expect(await readFile(path.join(dir, 'x', 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
    // without the requirement, nothing says a provenance was checked
    const plain = await m.mpm(['get', 'greet', '--mirror', m.mirror, '--output', path.join(dir, 'plain.tar.zst'), '--json', ...m.trust()]);
    expect(plain.code, plain.err).to.equal(0);
    expect(JSON.parse(plain.out)).to.not.have.property('provenance_key_id');
  });

  it('get --require-provenance without --mirror: bad_request, one line (the server\'s get downloads the source, which has no provenance)', async () => {
    const r = await m.mpm(['get', 'hello', '--require-provenance', '--output', path.join(m.work, 'hello.tgz')]);
    expect([r.code, cliErrorCode(r)], r.err).to.deep.equal([1, 'bad_request']);
    expectOneLine(r.err);
    expect(existsSync(path.join(m.work, 'hello.tgz'))).to.equal(false);
  });

  it('the check is opt-in: without --require-provenance (or with MPM_REQUIRE_PROVENANCE=0) a mirror without provenance installs and gets', async () => {
    await m.restoring(async () => {
      await withoutProvenance('greet');
      await withoutProvenance('libgreet');
      for (const env of [{}, { MPM_REQUIRE_PROVENANCE: '0' }] as Array<Record<string, string>>) {
        const R = await baseRoot(m.work, `root-optin-${Object.keys(env).length}`);
        const r = await m.mpm(['install', '--mirror', m.mirror, 'greet', '--root', R, '--yes', ...m.trust()], env);
        expect(r.code, r.err).to.equal(0);
        expect(await readFile(path.join(R, 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
        const F = path.join(R, '..', `optin-${Object.keys(env).length}.tar.zst`);
        const g = await m.mpm(['get', 'greet', '--mirror', m.mirror, '--output', F, ...m.trust()], env);
        expect(g.code, g.err).to.equal(0);
        expect(existsSync(F)).to.equal(true);
      }
      // the same mirror, the requirement on: refused
      const R = await baseRoot(m.work, 'root-optin-required');
      const x = await m.mpm(['install', '--mirror', m.mirror, 'greet', '--require-provenance', '--root', R, '--yes', ...m.trust()]);
      expect([x.code, cliErrorCode(x)], x.err).to.deep.equal([1, 'provenance_missing']);
    });
  });

  describe('refusals: by code, one line, nothing under the root, no output file, the replay state as it was', () => {
    interface Refusal {
      code: string;
      /** what the error's data holds (checked in-process through mpmMirrorGet) */
      data?: Record<string, unknown>;
      /** changes the mirror (put back after) */
      tamper: () => Promise<void>;
      /** `mpm get greet` is refused too (false: only an install checks it, e.g. dependencies) */
      get?: boolean;
      /** the requirement from the environment instead of the flag */
      env?: Record<string, string>;
      /** what the install's error line names (where no in-process data says which check refused) */
      named?: string[];
    }
    async function refused(c: Refusal): Promise<void> {
      const stateBefore = await readFile(m.stateFile, 'utf8').catch(() => null);
      expect(stateBefore, 'a state to keep (the install above moved it)').to.be.a('string');
      const R = await baseRoot(m.work, `root-${Math.random().toString(36).slice(2)}`);
      const was = await listing(R);
      const out = await mkdtemp(path.join(m.work, 'out-'));
      const require = c.env ? [] : flag;
      await m.restoring(async () => {
        await c.tamper();
        const x = await m.mpm(['install', '--mirror', m.mirror, 'greet', ...require, '--root', R, '--yes', ...m.trust()], c.env);
        expect(x.code, x.out + x.err).to.equal(1);
        expectOneLine(x.err);
        expect(cliErrorCode(x), x.err).to.equal(c.code);
        for (const n of c.named ?? []) expect(x.err).to.include(n);
        expect(await listing(R)).to.deep.equal(was);
        expect(existsSync(path.join(R, 'var')), 'not even mpm\'s folder').to.equal(false);
        if (c.get ?? true) {
          const g = await m.mpm(['get', 'greet', '--mirror', m.mirror, ...require, '--output', path.join(out, 'greet.tar.zst'), ...m.trust()], c.env);
          expect(g.code, g.out + g.err).to.equal(1);
          expectOneLine(g.err);
          expect(cliErrorCode(g), g.err).to.equal(c.code);
          expect(await readdir(out), 'no file, not even a partial one').to.deep.equal([]);
          if (c.data) {
            const e = await mpmMirrorGet({
              mirror: m.mirror, publicKeys: [m.publicKey], contentKeysFile: m.contentKeys, stateFile: m.stateFile,
              spec: 'greet', arch: 'x86_64', output: path.join(out, 'in-process.tar.zst'), requireProvenance: true,
            }).then(() => null, (err: unknown) => err as { code?: string; data?: Record<string, unknown> });
            expect(e?.code, String(e)).to.equal(c.code);
            expect(e!.data).to.deep.include(c.data);
            expect(await readdir(out)).to.deep.equal([]);
          }
        }
        expect(await readFile(m.stateFile, 'utf8').catch(() => null)).to.equal(stateBefore);
      });
    }

    it('(a) an index entry without provenance_path (provenance_missing)', () => refused({
      code: 'provenance_missing', data: { name: 'greet', pkgid: ids.greet },
      tamper: () => withoutProvenance('greet'),
    }));

    it('(a) the same, required by MPM_REQUIRE_PROVENANCE=1 instead of the flag', () => refused({
      code: 'provenance_missing', env: { MPM_REQUIRE_PROVENANCE: '1' },
      tamper: () => withoutProvenance('greet'),
    }));

    it('(a) a dependency without provenance: the install is refused (get greet does not fetch libgreet)', () => refused({
      code: 'provenance_missing', get: false, named: [`libgreet 1.0 (pkgid ${ids.libgreet}`],
      tamper: () => withoutProvenance('libgreet'),
    }));

    it('(b) a byte of the provenance changed, the index re-signed to its new size and sha256 (provenance_invalid: signature)', () => refused({
      code: 'provenance_invalid', data: { reason: 'signature' },
      tamper: async () => {
        const e = await entry('greet');
        const text = (await readFile(onMirror(e.provenance_path!))).toString('utf8');
        // a character in the middle of the base64 payload: still an envelope, its payload changed
        const at = text.indexOf('"payload": "') + 12 + 40;
        const changed = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
        expect(changed.length).to.equal(text.length);
        await replaceProvenance(e, changed);
      },
    }));

    it('(c) libgreet\'s provenance under greet\'s name, the index re-signed to match (provenance_mismatch: package)', () => refused({
      code: 'provenance_mismatch', data: { field: 'package', pkgid: ids.greet },
      tamper: async () => {
        const [g, l] = [await entry('greet'), await entry('libgreet')];
        await replaceProvenance(g, await readFile(onMirror(l.provenance_path!)));
      },
    }));

    it('(c) an index that names other binaries than the provenance does (provenance_mismatch: binaries)', () => refused({
      code: 'provenance_mismatch', data: { field: 'binaries' },
      tamper: async () => {
        const g = await entry('greet');
        await m.resign((as) => { as.find((a) => a.pkgid === g.pkgid)!.binaries_sha256 = 'f'.repeat(64); });
      },
    }));

    it('(c) greet\'s provenance signed by the publishing key but built against another libgreet: an install refuses it (provenance_mismatch: dependencies)', () => refused({
      code: 'provenance_mismatch', get: false, named: [`the plan installs libgreet pkgid ${ids.libgreet}`],
      tamper: async () => {
        const g = await entry('greet');
        const st = await statementOf(g.pkgid);
        for (const d of st.predicate.buildDefinition.resolvedDependencies) {
          if ((d.annotations as { kind?: string } | undefined)?.kind === 'dependency') (d.annotations as { pkgid: number }).pkgid = ids.libgreet + 1000;
        }
        await replaceProvenance(g, provenanceEnvelope(st, await m.pub.keys.signingKey()));
      },
    }));

    it('(d) the provenance changed on the mirror, the index not re-signed (provenance_invalid: digest, before its signature is read)', () => refused({
      code: 'provenance_invalid', data: { reason: 'digest' },
      tamper: async () => {
        const f = onMirror((await entry('greet')).provenance_path!);
        const b = await readFile(f);
        b[b.length >> 1] ^= 0x01;
        await writeFile(f, b);
      },
    }));

    it('(d) the provenance gone from the mirror while the index names it (provenance_missing)', () => refused({
      code: 'provenance_missing',
      tamper: async () => {
        await rm(onMirror((await entry('greet')).provenance_path!));
      },
    }));

    it('(e) greet\'s statement signed by a key mpm does not trust, the index re-signed to match (provenance_invalid: unknown_key)', () => refused({
      code: 'provenance_invalid', data: { reason: 'unknown_key' },
      tamper: async () => {
        const g = await entry('greet');
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        await replaceProvenance(g, provenanceEnvelope(await statementOf(g.pkgid), { id: signingKeyId(publicKey), privateKey }));
      },
    }));

    it('(e) an unsigned envelope of greet\'s statement, the index re-signed to match (provenance_invalid: unsigned)', () => refused({
      code: 'provenance_invalid', data: { reason: 'unsigned' },
      tamper: async () => {
        const g = await entry('greet');
        await replaceProvenance(g, provenanceEnvelope(await statementOf(g.pkgid), null));
      },
    }));
  });

  // after the refusals (mocha runs a describe's own tests before its nested ones): a new greet on the mirror
  describe('upgrade', () => it('upgrade --mirror --require-provenance: a new greet without provenance refused, the root as it was; with it, upgraded', async () => {
    ids.greet11 = await goodSubmission(m.s, greetM, 'greet', '1.1', {}, { fixture: 'greet', built: (id) => greet(id, '1.1'), resolvedDependencies: [ids.libgreet] });
    await m.publish();
    const was = await listing(installed);
    const stateBefore = await readFile(m.stateFile, 'utf8');
    await m.restoring(async () => {
      await withoutProvenance('greet');
      const x = await m.mpm(['upgrade', '--mirror', m.mirror, '--require-provenance', '--root', installed, '--yes', ...m.trust()]);
      expect([x.code, cliErrorCode(x)], x.err).to.deep.equal([1, 'provenance_missing']);
      expectOneLine(x.err);
    });
    expect(await listing(installed)).to.deep.equal(was);
    expect(await readFile(m.stateFile, 'utf8')).to.equal(stateBefore);
    const r = await m.mpm(['upgrade', '--mirror', m.mirror, '--require-provenance', '--root', installed, '--yes', ...m.trust()]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include(`upgraded greet 1.0 -> 1.1 (pkgid ${ids.greet} -> ${ids.greet11})`);
    expect(await db(installed, 'greet')).to.include({ version: '1.1', pkgid: ids.greet11 });
  }));
});
