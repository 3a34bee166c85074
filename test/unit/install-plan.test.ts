// The install plan's resolution (service/install-plan.ts) over a fake catalog: install order,
// explicit flags, the /port rule for names (shared with query URLs), specs, ?installed=, and each
// failure's code.
import { expect } from 'chai';
import { installPlan, type EntryFacts, type PlanQuery, type PlanSource } from '../../src/service/install-plan.js';
import { queryTarget } from '../../src/service/query-target.js';
import type { IndexedBuild } from '../../src/store/layout/indexed-builds.js';
import type { PortIndex, PortIndexEntry } from '../../src/store/layout/port-index.js';
import { refusal } from '../support/error-codes.js';

const T = '2024-01-01T00:00:00Z';
const BASE = 'http://mpm.test';
const build = (pkgid: number): IndexedBuild => ({
  installed_size: 1000 + pkgid, compile_seconds: pkgid / 10,
  binaries: { size: 100 + pkgid, sha256: `${'b'.repeat(60)}${String(pkgid).padStart(4, '0')}` },
  manifest_sha256: `${'m'.repeat(60)}${String(pkgid).padStart(4, '0')}`,
});

interface E { role?: 'maintainer' | 'admin' | 'user'; stable?: boolean; state?: PortIndexEntry['state']; deps?: Record<string, string>; arches?: string[]; legacy?: boolean }
const entry = (pkgid: number, version: string, o: E = {}): PortIndexEntry => {
  const e: PortIndexEntry = {
    pkgid, version, state: o.state ?? 'good', reason: null, submitter: 'alice', submitter_role: o.role ?? 'maintainer',
    submitted_at: T, updated_at: T, commit: null, stable: !!o.stable, tags: [], votes: 0, failed_reports: 0,
  };
  if (o.legacy) return e;
  e.dependencies = o.deps ?? {};
  const arches = (o.state ?? 'good') === 'good' ? o.arches ?? ['x86_64'] : [];
  if (arches.length) e.builds = Object.fromEntries(arches.map((a) => [a, build(pkgid)]));
  return e;
};

function world(packages: Record<string, PortIndexEntry[]>, legacy: Record<number, EntryFacts> = {}): PlanSource & { legacyReads: number[] } {
  const byName = new Map<string, PortIndex>(Object.entries(packages).map(([name, submissions]) => [name, { name, description: '', category: null, tags: [], submissions }]));
  const legacyReads: number[] = [];
  return {
    legacyReads,
    catalog: { get: async (name) => byName.get(name) ?? null },
    nameOf: async (pkgid) => [...byName.values()].find((ix) => ix.submissions.some((e) => e.pkgid === pkgid))?.name ?? null,
    legacy: async (pkgid) => { legacyReads.push(pkgid); return legacy[pkgid] ?? { dependencies: {}, build: null }; },
  };
}

const opts = { publicUrl: BASE, arches: ['x86_64', 'aarch64'] };
const plan = (src: PlanSource, pkg: string[], more: Partial<PlanQuery> = {}) => installPlan(src, { pkg, ...more }, opts);

const greetWorld = () => world({
  libgreet: [entry(1, '1.0'), entry(2, '1.1'), entry(3, '2.0'), entry(9, '1.5', { role: 'user' })],
  greet: [entry(4, '1.0', { deps: { libgreet: '>=1.0 <2' } }), entry(5, '1.1', { deps: { libgreet: '>=1.1 <2', libc: '*' } }), entry(8, '1.2', { role: 'user', deps: {} })],
  libc: [entry(6, '2.31')],
});

describe('install plan: resolution', () => {
  it('answers the runtime closure in install order, dependencies first, with explicit flags', async () => {
    const p = await plan(greetWorld(), ['greet']);
    expect(p.arch).to.equal('x86_64');
    expect(p.requested).to.deep.equal(['greet']);
    expect(p.packages.map((e) => [e.name, e.pkgid, e.explicit])).to.deep.equal([['libc', 6, false], ['libgreet', 2, false], ['greet', 5, true]]);
    expect(p).to.not.have.property('unchanged');
    const greet = p.packages[2]!;
    expect(greet).to.deep.equal({
      name: 'greet', version: '1.1', pkgid: 5, pkgurl: `${BASE}/pkg/5`, arch: 'x86_64', explicit: true,
      installed_size: 1005, compile_seconds: 0.5,
      dependencies: { libgreet: '>=1.1 <2', libc: '*' }, resolved: { libgreet: 2, libc: 6 },
      binaries: { url: `${BASE}/pkg/5/binaries/x86_64`, size: 105, sha256: build(5).binaries.sha256 },
      manifest: { url: `${BASE}/pkg/5/binaries/x86_64/manifest`, sha256: build(5).manifest_sha256 },
    });
    expect(Object.keys(greet)).to.deep.equal(['name', 'version', 'pkgid', 'pkgurl', 'arch', 'explicit', 'installed_size', 'compile_seconds', 'dependencies', 'resolved', 'binaries', 'manifest']);
  });

  it('resolves a name exactly as /port/<name> does: a user\'s submission never, unless flagged stable', async () => {
    const src = greetWorld();
    for (const which of [null, 'stable', '1.0'] as const) {
      const spec = which ? `libgreet@${which}` : 'libgreet';
      const t = await queryTarget(src, 'libgreet', which);
      if ('none' in t) {
        expect((await refusal(plan(src, [spec]))).code).to.equal('not_found');
      } else {
        expect((await plan(src, [spec])).packages.at(-1)!.pkgid).to.equal(t.pkgid);
      }
    }
    expect((await plan(src, ['libgreet'])).packages.map((e) => e.pkgid)).to.deep.equal([3]); // 2.0, not the user's 1.5
    // as a dependency too: greet 1.1 wants <2, the user's 1.5 is not a candidate
    expect((await plan(src, ['greet'])).packages.find((e) => e.name === 'libgreet')!.pkgid).to.equal(2);
    const flagged = world({ libgreet: [entry(1, '1.0'), entry(9, '1.5', { role: 'user', stable: true })], greet: [entry(4, '1.0', { deps: { libgreet: '>=1.0 <2' } })] });
    expect((await plan(flagged, ['libgreet@stable'])).packages.map((e) => e.pkgid)).to.deep.equal([9]);
    expect((await plan(flagged, ['greet'])).packages.map((e) => e.pkgid)).to.deep.equal([9, 4]);
  });

  it('takes NAME@VERSION, NAME@stable, a pkgid and a pkgurl', async () => {
    const src = world({
      libgreet: [entry(1, '1.0'), entry(2, '1.1', { stable: true }), entry(3, '2.0')],
      greet: [entry(4, '1.0', { deps: { libgreet: '>=1.0 <2' } })],
    });
    expect((await plan(src, ['libgreet@1.0'])).packages.map((e) => e.pkgid)).to.deep.equal([1]);
    expect((await plan(src, ['libgreet@stable'])).packages.map((e) => e.pkgid)).to.deep.equal([2]);
    expect((await plan(src, ['1'])).packages.map((e) => e.pkgid)).to.deep.equal([1]);
    expect((await plan(src, [`${BASE}/pkg/1`])).packages.map((e) => e.pkgid)).to.deep.equal([1]);
    // a requested submission is what dependencies on its name get
    const both = await plan(src, ['greet', 'libgreet@1.0']);
    expect(both.requested).to.deep.equal(['greet', 'libgreet@1.0']);
    expect(both.packages.map((e) => [e.pkgid, e.explicit])).to.deep.equal([[1, true], [4, true]]);
    expect(both.packages[1]!.resolved).to.deep.equal({ libgreet: 1 });
    // the same submission asked for twice is one entry
    expect((await plan(src, ['libgreet@1.0', '1'])).packages.map((e) => e.pkgid)).to.deep.equal([1]);
  });

  it('moves what is installed at the same pkgid into unchanged', async () => {
    const p = await plan(greetWorld(), ['greet'], { installed: ['libgreet@2,greet@4', 'libc@6'] });
    expect(p.packages.map((e) => e.pkgid)).to.deep.equal([5]);
    expect(p.unchanged).to.deep.equal([{ name: 'libc', pkgid: 6 }, { name: 'libgreet', pkgid: 2 }]);
    expect((await plan(greetWorld(), ['greet'], { installed: [''] })).unchanged).to.deep.equal([]);
  });

  it('restricts the closure to builds of the asked arch', async () => {
    const src = world({
      lib: [entry(1, '1.0', { arches: ['x86_64', 'aarch64'] }), entry(2, '1.1')],
      app: [entry(3, '1.0', { deps: { lib: '*' }, arches: ['x86_64', 'aarch64'] })],
      armonly: [entry(4, '1.0', { arches: ['aarch64'] })],
      needsarm: [entry(5, '1.0', { deps: { armonly: '*' } })],
    });
    expect((await plan(src, ['app'])).packages.map((e) => e.pkgid)).to.deep.equal([2, 3]);
    const arm = await plan(src, ['app'], { arch: 'aarch64' });
    expect(arm.packages.map((e) => [e.pkgid, e.arch])).to.deep.equal([[1, 'aarch64'], [3, 'aarch64']]);
    expect(arm.packages[1]!.binaries.url).to.equal(`${BASE}/pkg/3/binaries/aarch64`);
    let f = await refusal(plan(src, ['armonly']));
    expect(f.code).to.equal('not_found');
    expect(f.message).to.contain('armonly').and.contain('x86_64');
    f = await refusal(plan(src, ['needsarm']));
    expect(f.code).to.equal('not_found');
    expect(f.message).to.contain('armonly').and.contain('x86_64');
    f = await refusal(plan(src, ['app'], { arch: 'riscv64' }));
    expect(f.code).to.equal('not_found');
    expect(f.message).to.contain('riscv64');
  });

  it('fails with not_found on an unknown name, pkgid, or a submission without a good build', async () => {
    const src = world({ hello: [entry(1, '1.0', { state: 'failed' }), entry(2, '1.1', { state: 'building' })] });
    for (const spec of ['nosuch', '77', `${BASE}/pkg/77`, 'hello', 'hello@1.0', '1']) {
      const f = await refusal(plan(src, [spec]));
      expect(f.code, spec).to.equal('not_found');
    }
    expect((await refusal(plan(src, ['nosuch']))).message).to.contain('nosuch');
    expect((await refusal(plan(src, ['1']))).message).to.contain('hello').and.contain('x86_64');
  });

  it('fails with dependency on an unsatisfiable range, naming the package and the range', async () => {
    const src = world({ lib: [entry(1, '1.0')], app: [entry(2, '1.0', { deps: { lib: '>=2' } })], ghost: [entry(3, '1.0', { deps: { nosuch: '*' } })] });
    let f = await refusal(plan(src, ['app']));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('lib >=2').and.contain('app');
    f = await refusal(plan(src, ['ghost']));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('nosuch').and.contain('ghost');
  });

  it('fails with dependency when two requested packages need conflicting ranges', async () => {
    const src = world({
      lib: [entry(1, '1.0'), entry(2, '2.0')],
      a: [entry(3, '1.0', { deps: { lib: '>=2' } })],
      b: [entry(4, '1.0', { deps: { lib: '<2' } })],
    });
    const f = await refusal(plan(src, ['a', 'b']));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('lib <2').and.contain('b');
    // a requested version that a dependency's range excludes
    const g = await refusal(plan(src, ['a', 'lib@1.0']));
    expect(g.code).to.equal('dependency');
    expect(g.message).to.contain('lib >=2').and.contain('requested');
    // one name asked for at two submissions
    expect((await refusal(plan(src, ['lib@1.0', 'lib@2.0']))).code).to.equal('dependency');
  });

  it('fails with dependency on a cycle', async () => {
    const src = world({ a: [entry(1, '1', { deps: { b: '*' } })], b: [entry(2, '1', { deps: { a: '*' } })] });
    const f = await refusal(plan(src, ['a']));
    expect(f.code).to.equal('dependency');
    expect(f.message).to.contain('cycle: a -> b -> a');
  });

  it('refuses malformed specs with bad_request, invalid_name or invalid_version', async () => {
    const src = greetWorld();
    const cases: Array<[string[], Partial<PlanQuery>, string]> = [
      [[], {}, 'bad_request'],
      [['Greet'], {}, 'invalid_name'],
      [['@1.0'], {}, 'invalid_name'],
      [['greet@'], {}, 'invalid_version'],
      [['greet@1..0'], {}, 'invalid_version'],
      [['http://elsewhere.test/pkg/5'], {}, 'bad_request'],
      [[`${BASE}/pkg/x`], {}, 'bad_request'],
      [['greet'], { arch: 'x86 64' }, 'bad_request'],
      [['greet'], { installed: ['greet'] }, 'bad_request'],
      [['greet'], { installed: ['greet@x'] }, 'bad_request'],
      [['greet'], { installed: ['Bad@1'] }, 'invalid_name'],
    ];
    for (const [pkg, more, code] of cases) expect((await refusal(plan(src, pkg, more))).code, JSON.stringify([pkg, more])).to.equal(code);
  });

  it('reads an entry indexed before dependencies and builds existed from the tree', async () => {
    const src = world(
      { lib: [entry(1, '1.0', { legacy: true })], app: [entry(2, '1.0', { legacy: true })] },
      { 1: { dependencies: {}, build: build(1) }, 2: { dependencies: { lib: '*' }, build: build(2) } },
    );
    const p = await plan(src, ['app']);
    expect(p.packages.map((e) => [e.name, e.pkgid, e.installed_size])).to.deep.equal([['lib', 1, 1001], ['app', 2, 1002]]);
    expect(src.legacyReads.sort()).to.deep.equal([1, 2]);
  });
});
