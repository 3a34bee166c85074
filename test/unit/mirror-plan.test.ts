// `mpm install --mirror`'s plan from a signed index alone (src/mpm/mirror-plan.ts): specs picked as
// `mpm get --mirror` picks them, the closure resolved by the one rule (resolveClosure), what is
// installed at the chosen pkgid left unchanged, entries of an index signed before the resolution
// fields refused with a clear message, and specs a mirror cannot answer refused before any fetch.
import { expect } from 'chai';
import type { PackageRecord } from '../../src/mpm/db.js';
import { indexEntrySchema, type IndexEntry } from '../../src/domain/signed-index.js';
import { mirrorFileUrl, mirrorPlan, parseMirrorSpec, pickEntry } from '../../src/mpm/mirror-plan.js';
import { codeOf, refusal } from '../support/error-codes.js';

const hex = (c: string) => c.repeat(64);
const entry = (pkgid: number, name: string, version: string, deps: Record<string, string> | undefined, o: Partial<IndexEntry> = {}): IndexEntry => ({
  name, version, pkgid, arch: 'x86_64',
  path: `pool/${name[0]}/${name}/${name}_${version}_${pkgid}_x86_64.aaaaaaaaaaaa.tar.zst.enc`,
  sig_path: `pool/${name[0]}/${name}/${name}_${version}_${pkgid}_x86_64.aaaaaaaaaaaa.tar.zst.enc.sig`,
  size: 100 + pkgid, sha256: hex(String(pkgid % 10)), key_id: '0'.repeat(16), signing_key_id: '1'.repeat(16),
  compression: 'zstd', eligible: true, published_at: '2026-01-01T00:00:00Z',
  ...(deps ? {
    dependencies: deps, installed_size: 1000 * pkgid, manifest_sha256: hex('f'),
    manifest_path: `pool/${name[0]}/${name}/${name}_${version}_${pkgid}_x86_64.eeeeeeeeeeee.manifest.json.enc`,
    manifest_sealed_size: 200 + pkgid, manifest_sealed_sha256: hex('e'),
  } : {}),
  ...o,
});

const artifacts: IndexEntry[] = [
  entry(1, 'libgreet', '1.0', {}),
  entry(2, 'greet', '1.0', { libgreet: '>=1.0 <2' }),
  entry(3, 'libgreet', '2.0', {}),
  entry(4, 'greet', '1.1', { libgreet: '>=1.0 <2' }),
  entry(5, 'greet', '9.0', { libgreet: '>=1.0 <2' }, { eligible: false }), // a user's, not a maintainer's
  entry(6, 'greet', '1.1', { libgreet: '>=1.0 <2' }, { arch: 'aarch64' }),
  entry(7, 'needy', '1', { libgreet: '>=3' }),
  entry(8, 'old', '1', undefined), // signed before the resolution fields
  entry(9, 'usesold', '1', { old: '*' }),
  entry(10, 'loop', '1', { loop2: '*' }),
  entry(11, 'loop2', '1', { loop: '*' }),
];
const MIRROR = 'ftp://user:secret@127.0.0.1:2121/pub/';
const none = new Map<string, PackageRecord>();
const installedAt = (pkgids: Record<string, number>) => new Map(Object.entries(pkgids).map(([name, pkgid]) => [name, { name, pkgid } as PackageRecord]));

describe('mpm install --mirror: the plan from a signed index', () => {
  it('picks NAME (best eligible), NAME@VERSION and a pkgid as mpm get --mirror does', () => {
    expect(pickEntry(artifacts, 'greet', 'x86_64').pkgid).to.equal(4);
    expect(pickEntry(artifacts, 'greet@1.0', 'x86_64').pkgid).to.equal(2);
    expect(pickEntry(artifacts, 'greet', 'aarch64').pkgid).to.equal(6);
    expect(pickEntry(artifacts, '5', 'x86_64').version).to.equal('9.0'); // by pkgid: any
    expect(codeOf(() => pickEntry(artifacts, 'greet@9.0', 'x86_64'))).to.equal('not_found'); // not eligible by name
    expect(codeOf(() => pickEntry(artifacts, 'nosuch', 'x86_64'))).to.equal('not_found');
  });

  it('resolves the runtime closure with the one rule: dependencies first, the plan\'s shape', async () => {
    const { plan, entries } = await mirrorPlan({ artifacts }, ['greet'], 'x86_64', none, MIRROR);
    expect(plan.arch).to.equal('x86_64');
    expect(plan.requested).to.deep.equal(['greet']);
    expect(plan.unchanged).to.equal(undefined);
    expect(plan.packages.map((p) => [p.name, p.version, p.pkgid, p.explicit])).to.deep.equal([['libgreet', '1.0', 1, false], ['greet', '1.1', 4, true]]);
    const g = plan.packages[1];
    expect(g.dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
    expect(g.resolved).to.deep.equal({ libgreet: 1 });
    expect(g.installed_size).to.equal(4000);
    expect(g.binaries).to.deep.equal({ url: `ftp://127.0.0.1:2121/pub/${artifacts[3].path}`, size: 104, sha256: artifacts[3].sha256 });
    expect(g.manifest).to.deep.equal({ url: `ftp://127.0.0.1:2121/pub/${artifacts[3].manifest_path}`, sha256: hex('f') });
    expect(g.pkgurl, 'no credentials in what is recorded').to.equal(`ftp://127.0.0.1:2121/pub/${artifacts[3].path}`);
    expect([...entries.keys()]).to.deep.equal(['libgreet', 'greet']);
  });

  it('leaves out what is installed at the chosen pkgid (unchanged), keeps what is installed at another', async () => {
    const { plan } = await mirrorPlan({ artifacts }, ['greet'], 'x86_64', installedAt({ libgreet: 1, greet: 2 }), MIRROR);
    expect(plan.unchanged).to.deep.equal([{ name: 'libgreet', pkgid: 1 }]);
    expect(plan.packages.map((p) => p.pkgid)).to.deep.equal([4]);
    const same = await mirrorPlan({ artifacts }, ['greet'], 'x86_64', installedAt({ libgreet: 1, greet: 4 }), MIRROR);
    expect(same.plan.packages).to.deep.equal([]);
  });

  it('refuses, by code: an unsatisfiable range, a cycle, a name asked twice at two pkgids, an unknown package', async () => {
    const needy = await refusal(mirrorPlan({ artifacts }, ['needy'], 'x86_64', none, MIRROR));
    expect(needy.code).to.equal('dependency');
    expect(needy.message).to.include('libgreet >=3');
    expect((await refusal(mirrorPlan({ artifacts }, ['loop'], 'x86_64', none, MIRROR))).code).to.equal('dependency');
    expect((await refusal(mirrorPlan({ artifacts }, ['greet@1.0', '4'], 'x86_64', none, MIRROR))).code).to.equal('dependency');
    expect((await refusal(mirrorPlan({ artifacts }, ['nosuch'], 'x86_64', none, MIRROR))).code).to.equal('not_found');
  });

  it('refuses an entry of an index signed before the resolution fields: unavailable, saying republish', async () => {
    for (const spec of ['old', 'usesold']) {
      const f = await refusal(mirrorPlan({ artifacts }, [spec], 'x86_64', none, MIRROR));
      expect(f.code, spec).to.equal('unavailable');
      expect(f.message).to.include('predates').and.include('republish').and.include('old 1 (pkgid 8');
    }
    const noManifest = [entry(1, 'libgreet', '1.0', {}, { manifest_path: undefined })];
    expect((await refusal(mirrorPlan({ artifacts: noManifest }, ['libgreet'], 'x86_64', none, MIRROR))).message).to.include('manifest_path');
    // an index of manifests in clear (before they were sealed): the path without the sealed file's size and sha256
    const plainManifest = [entry(1, 'libgreet', '1.0', {}, { manifest_path: 'pool/l/libgreet/libgreet_1.0_1_x86_64.ffffffffffff.manifest.json', manifest_sealed_size: undefined, manifest_sealed_sha256: undefined })];
    const f = await refusal(mirrorPlan({ artifacts: plainManifest }, ['libgreet'], 'x86_64', none, MIRROR));
    expect(f.code).to.equal('unavailable');
    expect(f.message).to.include('manifest_sealed_size, manifest_sealed_sha256').and.include('republish');
  });

  it('refuses an index naming a pkgid twice or a name that cannot be a file name', async () => {
    expect((await refusal(mirrorPlan({ artifacts: [...artifacts, artifacts[0]] }, ['greet'], 'x86_64', none, MIRROR))).code).to.equal('bad_request');
    expect((await refusal(mirrorPlan({ artifacts: [entry(1, '../x', '1', {})] }, ['1'], 'x86_64', none, MIRROR))).code).to.equal('invalid_name');
  });

  it('takes NAME, NAME@VERSION and a pkgid; refuses NAME@stable and URLs (bad_request), bad names and versions', () => {
    expect(parseMirrorSpec('greet')).to.deep.equal({ query: 'greet', name: 'greet', pkgid: null });
    expect(parseMirrorSpec('greet@1.0')).to.deep.equal({ query: 'greet@1.0', name: 'greet', pkgid: null });
    expect(parseMirrorSpec('12')).to.deep.equal({ query: '12', name: null, pkgid: 12 });
    expect(codeOf(() => parseMirrorSpec('greet@stable'))).to.equal('bad_request');
    expect(codeOf(() => parseMirrorSpec('http://host/pkg/3'))).to.equal('bad_request');
    expect(codeOf(() => parseMirrorSpec('Bad Name'))).to.equal('invalid_name');
    expect(codeOf(() => parseMirrorSpec('greet@>=1'))).to.equal('invalid_version');
  });

  it('the signed index takes a manifest_path under pool/ only, as it takes an artifact\'s path', () => {
    const ok = (manifest_path: string) => indexEntrySchema.safeParse({ ...artifacts[0], manifest_path }).success;
    expect(ok('pool/l/libgreet/libgreet_1.0_1_x86_64.ffffffffffff.manifest.json')).to.equal(true);
    expect(ok('pool/../index.json')).to.equal(false);
    expect(ok('/etc/passwd')).to.equal(false);
    expect(ok('keys/rotation-1.json')).to.equal(false);
    expect(ok('pool/a b.json')).to.equal(false);
    expect(indexEntrySchema.safeParse({ ...artifacts[7] }).success, 'optional: an index signed before it still parses').to.equal(true);
  });

  it('makes a mirror file URL without credentials, each path part encoded', () => {
    expect(mirrorFileUrl('https://u:p@host/m', 'pool/a/a+b/x~1.json')).to.equal('https://host/m/pool/a/a%2Bb/x~1.json');
    expect(mirrorFileUrl('ftp://host', 'index.json')).to.equal('ftp://host/index.json');
  });
});
