// `mpm install --mirror` and `mpm upgrade --mirror` against a real FTP mirror (Debian's vsftpd on
// loopback) that the publisher filled from a test server's store: each artifact's manifest goes
// up beside it sealed like the artifact (nothing of it readable on the mirror) and the signed index
// names it with the sealed file's size and sha256 and the manifest's own sha256; mpm resolves the
// closure from the signed index alone (no server), checks every sealed manifest and archive against
// it, decrypts, checks each manifest's sha256 in clear, verifies the detached signatures, and
// installs through the same transaction as from a server. Every refusal is asserted by its code
// with nothing written under the root and the replay state left as it was. A mirror published
// before the manifests existed, or with manifests in clear, is refused with a clear `unavailable`,
// and gets sealed manifests on its next publishing round (the plain ones removed from it).
import { expect } from 'chai';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openManifest } from '../../src/domain/sealed-artifact.js';
import { formatPublicKey, type IndexEntry } from '../../src/domain/signed-index.js';
import type { Publisher } from '../../src/publish/publisher.js';
import { cliErrorCode, expectOneLine } from '../support/cli-bin.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { listing } from '../support/install-plan-server.js';
import { baseRoot, CONF_11, greet, LIB_SO, libgreet } from '../support/mpm-install-fixtures.js';
import { PublishedMirror } from '../support/published-mirror.js';
import type { TestServer } from '../support/test-server.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('mpm install --mirror: resolved from the signed index alone, over a real FTP mirror', function () {
  this.timeout(300_000);
  const m = new PublishedMirror('mpm-install-mirror-');
  const ftp = m.ftp;
  let s: TestServer;
  let pub: Publisher;
  let work: string;
  let mirror: string;
  let contentKeys: string;
  let stateFile: string;
  const ids: Record<string, number> = {};
  let greetM: { user: string; token: string };

  const mpm = (args: string[], extra: Record<string, string> = {}) => m.mpm(args, extra);
  const trust = () => m.trust();
  const db = async (root: string, name: string) => JSON.parse(await readFile(path.join(root, 'var/lib/mpm/installed', `${name}.json`), 'utf8'));
  const publish = () => m.publish();
  const committedManifest = (pkgid: number) => m.committed(pkgid, 'manifest.json');
  const resign = (edit: (a: IndexEntry[]) => void) => m.resign(edit);

  before(async () => {
    await m.start();
    ({ s, pub, work, mirror, contentKeys, stateFile } = m);
    // the installer tests' packages (a library with a symlink, a program needing it with a hard
    // link and a config file), as good builds in the store; and one needing a libgreet nobody has
    ids.libgreet = await goodSubmission(s, await maintainer(s, 'libgreet'), 'libgreet', '1.0', {}, { fixture: 'libgreet', built: (id) => libgreet(id) });
    greetM = await maintainer(s, 'greet');
    ids.greet = await goodSubmission(s, greetM, 'greet', '1.0', {}, { fixture: 'greet', built: (id) => greet(id, '1.0') });
    ids.needy = await goodSubmission(s, await maintainer(s, 'needy'), 'needy', '1.0', { 'usr/bin/needy': 'needs libgreet 2\n' }, { edit: (p) => { p.dependencies = { libgreet: '>=2' }; } });
    await publish();
  });
  after(() => m.close());

  it('publishes each build\'s manifest beside its artifact sealed like it (nothing of it in clear), named by the signed index with both sha256s', async () => {
    const ix = await m.readIndex();
    expect(ix.artifacts.map((a) => a.name).sort()).to.deep.equal(['greet', 'libgreet', 'needy']);
    for (const a of ix.artifacts) {
      expect(a.manifest_path, a.name).to.match(new RegExp(`^pool/${a.name[0]}/${a.name}/${a.name}_${a.version}_${a.pkgid}_x86_64\\.[0-9a-f]{12}\\.manifest\\.json\\.enc$`));
      const onMirror = await readFile(path.join(ftp.pub, a.manifest_path!));
      const committed = await committedManifest(a.pkgid);
      // sealed: not JSON, and not one of the package's paths (nor a file's sha256) in clear
      expect(() => JSON.parse(onMirror.toString('utf8')), a.name).to.throw();
      const listed = (JSON.parse(committed.toString('utf8')) as { files: Array<{ path: string; sha256?: string }> }).files;
      expect(listed.length, a.name).to.be.greaterThan(0);
      for (const f of listed) {
        expect(onMirror.includes(Buffer.from(f.path)), `${a.name}: ${f.path} in clear`).to.equal(false);
        if (f.sha256) expect(onMirror.includes(Buffer.from(f.sha256)), `${a.name}: ${f.path}'s sha256 in clear`).to.equal(false);
      }
      // the index signs the sealed file (size, sha256) and the manifest in clear (sha256: the committed bytes)
      expect([onMirror.length, sha256(onMirror)]).to.deep.equal([a.manifest_sealed_size, a.manifest_sealed_sha256]);
      expect(a.manifest_path!.split('.').at(-4), 'named by the sealed file\'s hash').to.equal(a.manifest_sealed_sha256!.slice(0, 12));
      expect(sha256(committed)).to.equal(a.manifest_sha256);
      // under the artifact's own content key, bound to that artifact
      expect(onMirror.subarray(5, 13).toString('hex')).to.equal(a.key_id);
      const ck = await pub.keys.contentKey(a.key_id);
      expect(openManifest(onMirror, a, new Map([[ck.id, ck.key]])).equals(committed), a.name).to.equal(true);
      expect(a.dependencies).to.be.an('object');
      expect(a.installed_size).to.be.a('number');
    }
    expect(ix.artifacts.find((a) => a.name === 'greet')!.dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
  });

  it('install --mirror URL greet: both packages from the mirror, no server; verify is clean, list shows both', async () => {
    const R = await baseRoot(work, 'root');
    const r = await mpm(['install', '--mirror', mirror, 'greet', '--root', R, '--yes', ...trust()]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include(`installed libgreet 1.0 (pkgid ${ids.libgreet}) as a dependency`).and.include(`installed greet 1.0 (pkgid ${ids.greet})`);
    expect(await readFile(path.join(R, 'usr/lib/libgreet.so'), 'utf8')).to.equal(LIB_SO); // through the symlink
    expect(await readFile(path.join(R, 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
    const g = await db(R, 'greet');
    expect(g).to.include({ version: '1.0', pkgid: ids.greet, explicit: true, spec: 'greet' });
    expect(g.resolved).to.deep.equal({ libgreet: ids.libgreet });
    const entry = (await m.readIndex()).artifacts.find((a) => a.name === 'greet')!;
    expect(g.pkgurl, 'where it came from').to.equal(`${mirror}/${entry.path}`);
    expect(await db(R, 'libgreet')).to.include({ pkgid: ids.libgreet, explicit: false });
    const v = await mpm(['verify', '--root', R]);
    expect(v.code, v.out + v.err).to.equal(0);
    const list = JSON.parse((await mpm(['list', '--root', R, '--json'])).out);
    expect(list.items.map((p: { name: string; pkgid: number }) => [p.name, p.pkgid]).sort()).to.deep.equal([['greet', ids.greet], ['libgreet', ids.libgreet]]);
    // the replay state moved once it all succeeded
    expect(JSON.parse(await readFile(stateFile, 'utf8'))[mirror].sequence).to.equal((await m.readIndex()).sequence);

    const again = await mpm(['install', '--mirror', mirror, 'greet', '--root', R, '--yes', ...trust()]);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.match(/nothing to do/);
  });

  it('upgrade --mirror: a new greet on the mirror replaces the old in one transaction, the changed config kept', async () => {
    const R = await baseRoot(work, 'root-upgrade');
    expect((await mpm(['install', '--mirror', mirror, `greet@1.0`, '--root', R, '--yes', ...trust()])).code).to.equal(0);
    await writeFile(path.join(R, 'etc/greet.conf'), 'mine\n');
    ids.greet11 = await goodSubmission(s, greetM, 'greet', '1.1', {}, { fixture: 'greet', built: (id) => greet(id, '1.1') });
    expect((await publish()).mirrors[0].failed).to.deep.equal([]);
    // greet was asked for as greet@1.0: upgrade keeps that spec; asking for greet moves it
    const kept = await mpm(['upgrade', '--mirror', mirror, '--root', R, '--yes', ...trust()]);
    expect(kept.code, kept.err).to.equal(0);
    expect(kept.out).to.match(/nothing to do/);
    const moved = await mpm(['install', '--mirror', mirror, 'greet', '--root', R, '--yes', ...trust()]);
    expect(moved.code, moved.err).to.equal(0);
    expect(moved.out).to.include(`upgraded greet 1.0 -> 1.1 (pkgid ${ids.greet} -> ${ids.greet11})`);
    expect(moved.out).to.include('kept /etc/greet.conf (you changed it)');
    expect(await readFile(path.join(R, 'etc/greet.conf.mpmnew'), 'utf8')).to.equal(CONF_11);
    expect(await db(R, 'greet')).to.include({ version: '1.1', spec: 'greet' });
    const again = await mpm(['upgrade', '--mirror', mirror, '--root', R, '--yes', ...trust()]);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.match(/nothing to do/);
  });

  it('a mirror published before manifests existed gets them on the next round (nothing else uploaded again); then installs from it', async () => {
    // as before this change: catalog entries without manifest_path, no manifest on the mirror,
    // and the mirror's index made from those entries
    const catalog = JSON.parse(await readFile(pub.paths.catalog, 'utf8')) as { artifacts: Array<Record<string, unknown>> };
    const manifests = catalog.artifacts.map((e) => e.manifest_path as string);
    for (const e of catalog.artifacts) { delete e.manifest_path; delete e.manifest_sealed_size; delete e.manifest_sealed_sha256; }
    await writeFile(pub.paths.catalog, JSON.stringify(catalog));
    const state = JSON.parse(await readFile(pub.paths.mirrorState('main'), 'utf8'));
    for (const m of manifests) {
      delete state.uploaded[m];
      await rm(path.join(ftp.pub, m));
    }
    await writeFile(pub.paths.mirrorState('main'), JSON.stringify({ ...state, index: { ...state.index, digest: '0'.repeat(64) } }));
    const st = (await pub.status())[0];
    expect(st.pending, 'no manifest_path yet: nothing pending').to.deep.equal([]);

    const r = await publish();
    expect(r.mirrors[0]).to.deep.include({ uploaded: [], failed: [], removed: [] });
    // sealed anew (a new nonce: new names), one for each entry
    const now = (await pub.catalog.entries()).map((e) => e.manifest_path!);
    expect([...r.mirrors[0].manifests].sort()).to.deep.equal([...now].sort());
    expect(now.filter((m) => manifests.includes(m))).to.deep.equal([]);
    expect(r.mirrors[0].index).to.be.a('number');
    const ix = await m.readIndex();
    for (const a of ix.artifacts) expect(sha256(await readFile(path.join(ftp.pub, a.manifest_path!)))).to.equal(a.manifest_sealed_sha256);
    expect((await pub.status())[0]).to.deep.include({ pending: [], failed: [] });

    const R = await baseRoot(work, 'root-after');
    const x = await mpm(['install', '--mirror', mirror, 'greet', '--root', R, '--yes', '--json', ...trust()]);
    expect(x.code, x.err).to.equal(0);
    expect(JSON.parse(x.out).installed.map((p: { name: string; version: string }) => `${p.name} ${p.version}`)).to.deep.equal(['libgreet 1.0', 'greet 1.1']);
    expect((await mpm(['verify', '--root', R])).code).to.equal(0);
  });

  it('a mirror with manifests in clear (published before they were sealed): refused as unavailable; the next round seals them and removes the plain ones', async () => {
    // as the publisher before sealing left it: catalog entries naming a plain manifest (the committed
    // bytes, named by their sha256), those files on the mirror and confirmed there, an index naming them
    const catalog = JSON.parse(await readFile(pub.paths.catalog, 'utf8')) as { artifacts: Array<Record<string, unknown>> };
    const state = JSON.parse(await readFile(pub.paths.mirrorState('main'), 'utf8'));
    const plain: string[] = [];
    const sealedBefore: string[] = [];
    for (const e of catalog.artifacts) {
      const bytes = await committedManifest(e.pkgid as number);
      const rel = `pool/${(e.name as string)[0]}/${e.name}/${e.name}_${e.version}_${e.pkgid}_${e.arch}.${sha256(bytes).slice(0, 12)}.manifest.json`;
      sealedBefore.push(e.manifest_path as string);
      delete state.uploaded[e.manifest_path as string];
      await rm(path.join(ftp.pub, e.manifest_path as string));
      await writeFile(path.join(ftp.pub, rel), bytes);
      await writeFile(pub.paths.local(rel), bytes);
      state.uploaded[rel] = { sha256: sha256(bytes), size: bytes.length, at: new Date().toISOString() };
      plain.push(rel);
      e.manifest_path = rel;
      delete e.manifest_sealed_size;
      delete e.manifest_sealed_sha256;
    }
    await ftp.ownPub();
    await writeFile(pub.paths.catalog, JSON.stringify(catalog));
    await writeFile(pub.paths.mirrorState('main'), JSON.stringify({ ...state, index: { ...state.index, digest: '0'.repeat(64) } }));
    const byPkgid = new Map(catalog.artifacts.map((e) => [e.pkgid as number, e.manifest_path as string]));
    await resign((as) => { for (const a of as) { a.manifest_path = byPkgid.get(a.pkgid); delete a.manifest_sealed_size; delete a.manifest_sealed_sha256; } });
    const R0 = await baseRoot(work, 'root-plain');
    const old = await mpm(['install', '--mirror', mirror, 'greet', '--root', R0, '--yes', ...trust()]);
    expect(cliErrorCode(old), old.err).to.equal('unavailable');
    expect(old.err).to.include('manifest_sealed_size, manifest_sealed_sha256').and.include('republish');

    const r = await publish();
    expect(r.mirrors[0]).to.deep.include({ uploaded: [], failed: [] });
    expect([...r.mirrors[0].removed].sort(), 'the plain manifests, once the new index is up').to.deep.equal([...plain].sort());
    const entries = await pub.catalog.entries();
    expect([...r.mirrors[0].manifests].sort()).to.deep.equal(entries.map((e) => e.manifest_path!).sort());
    for (const e of entries) {
      expect(e.manifest_path).to.match(/\.manifest\.json\.enc$/);
      expect(e.manifest_sealed_sha256).to.equal(sha256(await readFile(path.join(ftp.pub, e.manifest_path!))));
      expect(e.manifest_sha256).to.equal(sha256(await committedManifest(e.pkgid)));
    }
    for (const rel of plain) {
      expect(existsSync(path.join(ftp.pub, rel)), `${rel} left on the mirror`).to.equal(false);
      expect(existsSync(pub.paths.local(rel)), `${rel} left in DATA/publish`).to.equal(false);
    }
    const after = JSON.parse(await readFile(pub.paths.mirrorState('main'), 'utf8'));
    expect(Object.keys(after.uploaded).filter((k) => k.endsWith('.manifest.json'))).to.deep.equal([]);
    const ix = await m.readIndex();
    expect(ix.artifacts.every((a) => a.manifest_path!.endsWith('.manifest.json.enc') && a.manifest_sealed_sha256)).to.equal(true);
    expect((await pub.status())[0]).to.deep.include({ pending: [], failed: [] });
    // a round with nothing to do removes nothing more and signs no index
    expect((await publish()).mirrors[0]).to.deep.include({ uploaded: [], manifests: [], removed: [], index: null });

    const x = await mpm(['install', '--mirror', mirror, 'greet', '--root', R0, '--yes', ...trust()]);
    expect(x.code, x.err).to.equal(0);
    expect((await mpm(['verify', '--root', R0])).code).to.equal(0);
  });

  describe('refusals: by code, nothing written under the root, the replay state as it was', () => {
    /** runs `tamper` on the mirror, expects `code` from `mpm install --mirror … spec`, puts the mirror back */
    async function refused(code: string, spec: string, tamper: () => Promise<void | string[]> = async () => {}, named: string[] = []): Promise<void> {
      const stateBefore = await readFile(stateFile, 'utf8').catch(() => null);
      const R = await baseRoot(work, `root-${Math.random().toString(36).slice(2)}`);
      const was = await listing(R);
      await m.restoring(async () => {
        const args = (await tamper()) ?? trust();
        const x = await mpm(['install', '--mirror', mirror, spec, '--root', R, '--yes', ...args]);
        expect(x.code, x.out).to.not.equal(0);
        expectOneLine(x.err);
        expect(cliErrorCode(x), x.err).to.equal(code);
        for (const n of named) expect(x.err).to.include(n);
        expect(await listing(R)).to.deep.equal(was);
        expect(existsSync(path.join(R, 'var')), 'not even mpm\'s folder').to.equal(false);
        expect(await readFile(stateFile, 'utf8').catch(() => null)).to.equal(stateBefore);
      });
    }
    const greetEntry = async () => (await m.readIndex()).artifacts.filter((a) => a.name === 'greet').sort((a, b) => b.pkgid - a.pkgid)[0];

    const libgreetEntry = async () => (await m.readIndex()).artifacts.find((a) => a.name === 'libgreet')!;
    /** swaps two files' bytes on the mirror, each keeping the other's name */
    const swap = async (a: string, b: string) => {
      const [x, y] = [await readFile(path.join(ftp.pub, a)), await readFile(path.join(ftp.pub, b))];
      await writeFile(path.join(ftp.pub, a), y);
      await writeFile(path.join(ftp.pub, b), x);
    };

    it('a changed byte in a sealed manifest on the mirror (digest_mismatch, before it is decrypted)', async () => {
      const g = await greetEntry();
      await refused('digest_mismatch', 'greet', async () => {
        const f = path.join(ftp.pub, g.manifest_path!);
        const b = await readFile(f);
        b[b.length >> 1] ^= 0x01;
        await writeFile(f, b);
      }, [g.manifest_path!]);
    });

    it('a manifest sealed for another artifact, swapped in under its name (digest_mismatch: the index signs each sealed file)', async () => {
      const [g, l] = [await greetEntry(), await libgreetEntry()];
      await refused('digest_mismatch', 'greet', () => swap(g.manifest_path!, l.manifest_path!));
    });

    it('the same swap with an index re-signed to match the swapped files (decrypt_failed: each is bound to its artifact)', async () => {
      const [g, l] = [await greetEntry(), await libgreetEntry()];
      await refused('decrypt_failed', 'greet', async () => {
        await swap(g.manifest_path!, l.manifest_path!);
        await resign((as) => {
          const [ga, la] = [as.find((a) => a.pkgid === g.pkgid)!, as.find((a) => a.pkgid === l.pkgid)!];
          [ga.manifest_sealed_size, ga.manifest_sealed_sha256, la.manifest_sealed_size, la.manifest_sealed_sha256] = [l.manifest_sealed_size, l.manifest_sealed_sha256, g.manifest_sealed_size, g.manifest_sealed_sha256];
        });
      }, ['does not decrypt']);
    });

    it('an artifact put where its manifest is, with an index re-signed to match (decrypt_failed: not a sealed manifest)', async () => {
      const g = await greetEntry();
      await refused('decrypt_failed', 'greet', async () => {
        const art = await readFile(path.join(ftp.pub, g.path));
        await writeFile(path.join(ftp.pub, g.manifest_path!), art);
        await resign((as) => { Object.assign(as.find((a) => a.pkgid === g.pkgid)!, { manifest_sealed_size: art.length, manifest_sealed_sha256: sha256(art) }); });
      }, ['not a sealed Morphux manifest']);
    });

    it('a manifest in clear with the sha256s re-signed to match (decrypt_failed: only a sealed manifest is read)', async () => {
      const g = await greetEntry();
      await refused('decrypt_failed', 'greet', async () => {
        const bytes = await committedManifest(g.pkgid);
        await writeFile(path.join(ftp.pub, g.manifest_path!), bytes);
        await resign((as) => { Object.assign(as.find((a) => a.pkgid === g.pkgid)!, { manifest_sealed_size: bytes.length, manifest_sealed_sha256: sha256(bytes) }); });
      });
    });

    it('a changed byte in an artifact on the mirror (digest_mismatch)', () => refused('digest_mismatch', 'greet', async () => {
      const f = path.join(ftp.pub, (await greetEntry()).path);
      const b = await readFile(f);
      b[b.length >> 1] ^= 0x01;
      await writeFile(f, b);
    }));

    it('an index signed by a key mpm does not trust (unknown_key)', () => refused('unknown_key', 'greet', async () => {
      const other = formatPublicKey(generateKeyPairSync('ed25519').publicKey);
      return ['--public-key', other, '--content-keys', contentKeys];
    }));

    it('an unknown package (not_found)', () => refused('not_found', 'nosuch', undefined, ['nosuch']));

    it('an unsatisfiable range (dependency), naming the package and the range', () => refused('dependency', 'needy', undefined, ['libgreet >=2']));

    it('NAME@stable, which a mirror\'s index cannot answer (bad_request)', () => refused('bad_request', 'greet@stable', undefined, ['stable']));

    it('an index signed before the entries carried what an install needs (unavailable: republish)', () => refused('unavailable', 'greet', async () => {
      await resign((as) => { for (const a of as) delete a.manifest_path; });
    }, ['predates', 'republish']));
  });
});
