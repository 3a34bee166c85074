// The installer's pure logic (src/mpm/): conflicts and file operations of a transaction, config
// files kept, folders made and removed, what `remove` takes (dependents refused, --cascade,
// --orphans), the journal's roll-forward/back decisions and undo steps (a crash at every point),
// the checks of manifests, archive entry paths and plans.
import { expect } from 'chai';
import { planChanges, type ChangeInput } from '../../src/mpm/changes.js';
import type { Db, FileEntry, PackageRecord } from '../../src/mpm/db.js';
import type { Disk, DiskEntry } from '../../src/mpm/fs/root-path.js';
import { entryPath } from '../../src/mpm/install/extract.js';
import { checkManifest, linkStaysInside } from '../../src/mpm/install/manifest.js';
import { checkPlan } from '../../src/mpm/install/plan.js';
import { doSteps, recoveryAction, undoSteps, type Journal, type Op, type Step } from '../../src/mpm/journal.js';
import { layoutOf } from '../../src/mpm/layout.js';
import { isSharedLibrary } from '../../src/mpm/paths.js';
import { orphansAfter, planRemoval } from '../../src/mpm/removal.js';
import { isMorphuxError } from '../../src/domain/errors.js';

const H = (c: string) => c.repeat(64).slice(0, 64);
const file = (path: string, sha = 'a', mode = 0o644): FileEntry => ({ path, type: 'file', mode, size: 1, sha256: H(sha) });
const dir = (path: string, created = false): FileEntry => ({ path, type: 'dir', mode: 0o755, created });
function rec(name: string, files: FileEntry[], o: { deps?: string[]; explicit?: boolean; pkgid?: number } = {}): PackageRecord {
  return {
    format: 1, name, version: '1.0', pkgid: o.pkgid ?? 1, pkgurl: `http://s/pkg/${o.pkgid ?? 1}`, arch: 'x86_64', explicit: o.explicit ?? true, spec: name,
    installed_at: '2024-01-01T00:00:00Z', installed_size: 1, dependencies: Object.fromEntries((o.deps ?? []).map((d) => [d, '*'])), resolved: {}, files,
  };
}
const dbOf = (...rs: PackageRecord[]): Db => new Map(rs.map((r) => [r.name, r]));

/** ROOT in memory: path -> type and sha (no links: resolve is the identity). */
class MemDisk implements Disk {
  constructor(readonly e: Record<string, { type: DiskEntry['type']; sha?: string }>) {}
  resolve(p: string) { return p; }
  lstat(p: string): DiskEntry | null { const x = this.e[p]; return x ? { type: x.type, mode: 0o644, size: 1 } : null; }
  sha256(p: string) { return this.e[p]?.sha ? H(this.e[p].sha!) : null; }
  readlink() { return null; }
}
const disk = (files: string[], dirs: string[] = [], sha: Record<string, string> = {}) =>
  new MemDisk(Object.fromEntries([...dirs.map((d) => [d, { type: 'dir' as const }]), ...files.map((f) => [f, { type: 'file' as const, sha: sha[f] ?? 'a' }])]));
const layout = layoutOf('/var/lib/mpm');
const plan = (i: Partial<ChangeInput> & Pick<ChangeInput, 'db'>, d: Disk) =>
  planChanges({ put: [], remove: [], overwrite: false, layout, staging: '/var/lib/mpm/staging/t', ...i }, d);
const opsOf = (ops: Op[], kind: Op['op']) => ops.filter((o) => o.op === kind).map((o) => o.path);

describe('mpm: conflicts and the operations of a transaction', () => {
  it('a path owned by another installed package is a conflict naming both', () => {
    const p = plan({ db: dbOf(rec('libgreet', [dir('/usr'), file('/usr/include/greet.h')])), put: [rec('other', [file('/usr/include/greet.h', 'b')])] }, disk(['/usr/include/greet.h'], ['/usr', '/usr/include']));
    expect(p.conflicts.map((c) => [c.kind, c.path, c.package, c.other])).to.deep.equal([['owned', '/usr/include/greet.h', 'other', 'libgreet']]);
    expect(p.conflicts[0].message).to.include('other').and.include('libgreet');
  });

  it('an existing file nobody owns is a conflict unless --overwrite, which keeps it as a backup until the commit', () => {
    const d = disk(['/usr/bin/greet'], ['/usr', '/usr/bin']);
    const input = { db: dbOf(), put: [rec('greet', [file('/usr/bin/greet')])] };
    expect(plan(input, d).conflicts.map((c) => [c.kind, c.path])).to.deep.equal([['unowned', '/usr/bin/greet']]);
    const ok = plan({ ...input, overwrite: true }, d);
    expect(ok.conflicts).to.deep.equal([]);
    expect(ok.ops.find((o) => o.path === '/usr/bin/greet')).to.deep.equal({ op: 'put', path: '/usr/bin/greet', staged: '/var/lib/mpm/staging/t/p0/0', backup: '/var/lib/mpm/staging/t/b/0' });
  });

  it('two incoming packages with one path conflict; a shared folder does not', () => {
    const p = plan({ db: dbOf(), put: [rec('a', [dir('/opt'), file('/opt/x')]), rec('b', [dir('/opt'), file('/opt/x', 'c')])] }, disk([]));
    expect(p.conflicts.map((c) => [c.kind, c.path, c.package, c.other])).to.deep.equal([['both-new', '/opt/x', 'b', 'a']]);
    const q = plan({ db: dbOf(), put: [rec('a', [dir('/opt'), file('/opt/x')]), rec('b', [dir('/opt'), file('/opt/y')])] }, disk([]));
    expect(q.conflicts).to.deep.equal([]);
    expect(opsOf(q.ops, 'mkdir')).to.deep.equal(['/opt']);
    expect(q.records.map((r) => r.files.find((f) => f.path === '/opt'))).to.deep.equal([dir('/opt', true), dir('/opt', true)]);
  });

  it('folders: missing ones are made (outermost first) and recorded as made; existing ones are left alone', () => {
    const p = plan({ db: dbOf(), put: [rec('greet', [file('/usr/share/doc/greet/README')])] }, disk([], ['/usr']));
    expect(opsOf(p.ops, 'mkdir')).to.deep.equal(['/usr/share', '/usr/share/doc', '/usr/share/doc/greet']);
    // every folder on the way is listed (shared ownership), marked whether this transaction made it
    expect(p.records[0].files.filter((f) => f.type === 'dir').map((f) => [f.path, f.created])).to.deep.equal([['/usr', false], ['/usr/share', true], ['/usr/share/doc', true], ['/usr/share/doc/greet', true]]);
    expect(p.ops.map((o) => o.op)).to.deep.equal(['mkdir', 'mkdir', 'mkdir', 'put', 'put']); // the last: the database record
  });

  it('refuses a file where ROOT has a folder, a file on the way, and anything in mpm\'s own folder', () => {
    const p = plan({ db: dbOf(), put: [rec('x', [file('/a'), file('/b/c'), file('/var/lib/mpm/installed/x.json')])] }, disk(['/b'], ['/a']));
    expect(p.conflicts.map((c) => [c.kind, c.path])).to.deep.equal([['mpm', '/var/lib/mpm/installed/x.json'], ['type', '/a'], ['not-a-dir', '/b']]);
  });

  const old = rec('greet', [dir('/etc'), file('/etc/greet.conf', 'a'), file('/usr/bin/greet', 'a'), file('/usr/bin/old', 'a'), dir('/usr/share/greet', true)], { pkgid: 2 });
  const d0 = () => disk(['/etc/greet.conf', '/usr/bin/greet', '/usr/bin/old'], ['/etc', '/usr', '/usr/bin', '/usr/share', '/usr/share/greet'], { '/etc/greet.conf': 'u' });

  it('upgrade: a changed config file stays and the new one goes beside it; files gone from the package are deleted', () => {
    const next = rec('greet', [dir('/etc'), file('/etc/greet.conf', 'n'), file('/usr/bin/greet', 'n')], { pkgid: 3 });
    const p = plan({ db: dbOf(old), put: [next] }, d0());
    expect(p.conflicts).to.deep.equal([]);
    expect(p.keptConfig).to.deep.equal(['/etc/greet.conf']);
    expect(p.mpmnew).to.deep.equal(['/etc/greet.conf.mpmnew']);
    expect(opsOf(p.ops, 'put')).to.deep.equal(['/etc/greet.conf.mpmnew', '/usr/bin/greet', '/var/lib/mpm/installed/greet.json']);
    expect(opsOf(p.ops, 'del')).to.deep.equal(['/usr/bin/old']);
    expect(p.rmdirs).to.deep.equal(['/usr/share/greet']); // made by mpm, listed by nobody now
  });

  it('upgrade: a config file the package did not change, or that the user did not change, is no .mpmnew', () => {
    const same = plan({ db: dbOf(old), put: [rec('greet', [file('/etc/greet.conf', 'a'), file('/usr/bin/greet', 'n')], { pkgid: 3 })] }, d0());
    expect([same.keptConfig, same.mpmnew, opsOf(same.ops, 'put')]).to.deep.equal([['/etc/greet.conf'], [], ['/usr/bin/greet', '/var/lib/mpm/installed/greet.json']]);
    const d = d0();
    d.e['/etc/greet.conf'].sha = 'a'; // untouched by the user: replaced
    const clean = plan({ db: dbOf(old), put: [rec('greet', [file('/etc/greet.conf', 'n')], { pkgid: 3 })] }, d);
    expect([clean.keptConfig, opsOf(clean.ops, 'put')[0]]).to.deep.equal([[], '/etc/greet.conf']);
  });

  it('remove: the changed config file stays; a folder made by mpm goes, one that was there before stays, a shared one stays', () => {
    const other = rec('other', [dir('/usr/share/greet')]);
    const p = plan({ db: dbOf(old, other), remove: ['greet'] }, d0());
    expect(p.keptConfig).to.deep.equal(['/etc/greet.conf']);
    expect(opsOf(p.ops, 'del')).to.deep.equal(['/usr/bin/greet', '/usr/bin/old', '/var/lib/mpm/installed/greet.json']);
    expect(p.rmdirs).to.deep.equal([]); // /usr/share/greet is listed by other; /etc was not made by mpm
    // the folder outlives the package that made it: the one still listing it now owns its removal
    expect(p.records.map((r) => [r.name, r.files[0]])).to.deep.equal([['other', dir('/usr/share/greet', true)]]);
    expect(p.dropped).to.deep.equal(['greet']);
  });

  it('a folder made for one package and used by another is removed with the last of them', () => {
    const a = rec('a', [dir('/opt', true), dir('/opt/a', true), file('/opt/a/1')]);
    const d = disk(['/opt/a/1'], ['/opt', '/opt/a']);
    const addB = plan({ db: dbOf(a), put: [rec('b', [file('/opt/a/2')])] }, d);
    const b = addB.records.find((r) => r.name === 'b')!;
    expect(b.files.filter((f) => f.type === 'dir')).to.deep.equal([{ ...dir('/opt'), mode: 0o644 }, { ...dir('/opt/a'), mode: 0o644 }]);
    d.e['/opt/a/2'] = { type: 'file', sha: 'a' };
    const dropA = plan({ db: dbOf(a, b), remove: ['a'] }, d);
    expect(dropA.rmdirs).to.deep.equal([]);
    const b2 = dropA.records.find((r) => r.name === 'b')!;
    expect(b2.files.filter((f) => f.type === 'dir').map((f) => [f.path, f.created])).to.deep.equal([['/opt', true], ['/opt/a', true]]);
    delete d.e['/opt/a/1'];
    expect(plan({ db: dbOf(b2), remove: ['b'] }, d).rmdirs).to.deep.equal(['/opt/a', '/opt']);
  });

  it('a transaction touching a shared library runs ldconfig', () => {
    expect(isSharedLibrary('/usr/lib/libgreet.so.1')).to.equal(true);
    expect(isSharedLibrary('/usr/lib/x86_64-linux-gnu/libz.so')).to.equal(true);
    expect(isSharedLibrary('/usr/lib/greet/plugin.so')).to.equal(false);
    expect(isSharedLibrary('/usr/include/greet.h')).to.equal(false);
    expect(plan({ db: dbOf(), put: [rec('l', [file('/usr/lib/libgreet.so.1')])] }, disk([], ['/usr', '/usr/lib'])).ldconfig).to.equal(true);
    expect(plan({ db: dbOf(), put: [rec('g', [file('/usr/bin/greet')])] }, disk([], ['/usr', '/usr/bin'])).ldconfig).to.equal(false);
  });
});

describe('mpm remove: dependents, --cascade, --orphans', () => {
  const db = dbOf(
    rec('libc', [], { explicit: false }),
    rec('libgreet', [], { explicit: false, deps: ['libc'] }),
    rec('greet', [], { deps: ['libgreet'] }),
    rec('hello', [], { deps: ['libc'] }),
    rec('tool', [], { explicit: true }),
  );
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return isMorphuxError(e) ? `${e.code}: ${e.message}` : String(e);
    }
    return 'ok';
  };

  it('refuses while a package that stays depends on it, naming it', () => {
    expect(code(() => planRemoval(db, ['libgreet']))).to.equal('dependency: cannot remove libgreet: greet depends on it (--cascade removes it too)');
    expect(code(() => planRemoval(db, ['libc']))).to.match(/^dependency: cannot remove libc: hello, libgreet depend on it/);
    expect(code(() => planRemoval(db, ['nosuch']))).to.equal('not_found: nosuch is not installed');
    expect(planRemoval(db, ['greet', 'libgreet']).remove).to.deep.equal(['greet', 'libgreet']);
  });

  it('--cascade takes the dependents too, dependents first', () => {
    const p = planRemoval(db, ['libgreet'], { cascade: true });
    expect(p.remove).to.deep.equal(['greet', 'libgreet']);
    expect(p.cascaded).to.deep.equal(['greet']);
  });

  it('--orphans takes the dependencies nothing left needs, transitively, never an explicit package', () => {
    expect(planRemoval(db, ['greet'], { orphans: true })).to.deep.include({ remove: ['greet', 'libgreet'], orphans: ['libgreet'] });
    expect(orphansAfter(db, new Set(['greet', 'hello']))).to.have.members(['libgreet', 'libc']);
    expect(orphansAfter(db, new Set(['tool']))).to.deep.equal([]);
  });
});

describe('mpm journal: roll forward or back, and undoing at any point', () => {
  const j = (state: Journal['state']) => ({ format: 1, txid: 't', state, command: 'x', started_at: '', staging: '/s', ops: [], rmdirs: [], triggers: [] }) as Journal;
  it('a journal that reached committing rolls forward, one that did not rolls back', () => {
    expect(recoveryAction(null)).to.equal('none');
    expect(recoveryAction(j('prepared'))).to.equal('roll-back');
    expect(recoveryAction(j('committing'))).to.equal('roll-forward');
  });

  /** a file system as path -> content, where steps run; a crash can stop it after any step */
  const run = (fs: Map<string, string>, steps: Step[], budget: { n: number }) => {
    for (const s of steps) {
      if (budget.n-- <= 0) return false;
      if ('rename' in s) {
        const v = fs.get(s.rename[0]);
        if (v === undefined) throw new Error(`rename of missing ${s.rename[0]}`);
        fs.delete(s.rename[0]);
        fs.set(s.rename[1], v);
      } else fs.delete(s.rmdir);
    }
    return true;
  };
  const ops: Op[] = [
    { op: 'del', path: '/gone', backup: '/s/b/0' },
    { op: 'put', path: '/replaced', staged: '/s/p0/0', backup: '/s/b/1' },
    { op: 'put', path: '/new', staged: '/s/p0/1', backup: null },
    { op: 'put', path: '/db/greet.json', staged: '/s/db/greet.json', backup: '/s/b/db-greet' },
  ];
  const initial = () => new Map([['/gone', 'old-gone'], ['/replaced', 'old-replaced'], ['/s/p0/0', 'new-replaced'], ['/s/p0/1', 'new-new'], ['/db/greet.json', 'old-db'], ['/s/db/greet.json', 'new-db']]);
  const visible = (fs: Map<string, string>) => Object.fromEntries([...fs].filter(([p]) => !p.startsWith('/s/')).sort());

  it('a crash after any step of the moves, and another during the rollback, still ends in the old state', () => {
    const total = ops.reduce((n, o) => n + doSteps(o, (p) => initial().has(p)).length, 0) + 2;
    for (let crashAt = 0; crashAt <= total; crashAt++) {
      for (let crashInUndo = 0; crashInUndo <= 6; crashInUndo++) {
        const fs = initial();
        const budget = { n: crashAt };
        for (const o of ops) if (!run(fs, doSteps(o, (p) => fs.has(p)), budget)) break;
        const undoBudget = { n: crashInUndo };
        const undo = () => { for (const o of [...ops].reverse()) if (!run(fs, undoSteps(o, (p) => fs.has(p)), undoBudget)) return; };
        undo(); // interrupted after crashInUndo steps …
        undoBudget.n = Infinity;
        undo(); // … then run again in full by the next mpm
        undo(); // and once more changes nothing
        expect(visible(fs), `crash at ${crashAt}, again at ${crashInUndo}`).to.deep.equal({ '/db/greet.json': 'old-db', '/gone': 'old-gone', '/replaced': 'old-replaced' });
      }
    }
  });

  it('all moves done: the new state, with the old files only in backups', () => {
    const fs = initial();
    for (const o of ops) run(fs, doSteps(o, (p) => fs.has(p)), { n: Infinity });
    expect(visible(fs)).to.deep.equal({ '/db/greet.json': 'new-db', '/new': 'new-new', '/replaced': 'new-replaced' });
    expect(fs.get('/s/b/0')).to.equal('old-gone');
  });
});

describe('mpm: manifests, archive entries and plans are checked', () => {
  const p = { name: 'greet', version: '1.0', pkgid: 2, arch: 'x86_64' };
  const m = (files: unknown[]) => ({ ...p, files });
  const why = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return isMorphuxError(e) ? `${e.code}: ${e.message}` : String(e);
    }
  };

  it('takes a good manifest: modes as permission bits, hard links carry their file\'s digest', () => {
    const files = checkManifest(m([
      { path: '/usr', type: 'dir', mode: 0o40755 },
      { path: '/usr/bin/greet', type: 'file', mode: 0o100755, size: 3, sha256: H('a') },
      { path: '/usr/bin/hi', type: 'hardlink', mode: 0o100755, target: '/usr/bin/greet' },
      { path: '/usr/bin/hey', type: 'symlink', mode: 0o120777, target: 'greet' },
    ]), p);
    expect(files.map((f) => [f.path, f.type, f.mode.toString(8)])).to.deep.equal([['/usr', 'dir', '755'], ['/usr/bin/greet', 'file', '755'], ['/usr/bin/hi', 'hardlink', '755'], ['/usr/bin/hey', 'symlink', '777']]);
    expect(files[2]).to.include({ target: '/usr/bin/greet', size: 3, sha256: H('a') });
  });

  it('refuses unsafe paths and links, and a manifest of another package', () => {
    const f = (path: string, extra: object = {}) => ({ path, type: 'file', mode: 0o644, size: 1, sha256: H('a'), ...extra });
    expect(why(() => checkManifest(m([f('/usr/../etc/passwd')]), p))).to.match(/^unsafe_archive: .*bad path/);
    expect(why(() => checkManifest(m([f('usr/bin/x')]), p))).to.match(/^unsafe_archive: .*bad path/);
    expect(why(() => checkManifest(m([f('/a'), f('/a')]), p))).to.match(/listed twice/);
    expect(why(() => checkManifest(m([f('/var/lib/mpm/installed/x.json')]), p))).to.match(/mpm's own/);
    expect(why(() => checkManifest(m([{ path: '/usr/lib/x', type: 'symlink', mode: 0o777, target: '../../../../etc/shadow' }]), p))).to.match(/links out of ROOT/);
    expect(why(() => checkManifest(m([{ path: '/opt/l', type: 'symlink', mode: 0o777, target: '/' }, f('/opt/l/x')]), p))).to.match(/is under \/opt\/l, a symlink/);
    expect(why(() => checkManifest(m([{ path: '/x', type: 'hardlink', mode: 0o644, target: '/etc/shadow' }]), p))).to.match(/not a file of the package/);
    expect(why(() => checkManifest(m([f('/x', { mode: 0o40755 })]), p))).to.match(/is not a file's/);
    expect(why(() => checkManifest({ ...m([]), name: 'evil' }, p))).to.match(/^bad_request: the manifest of greet .* names evil/);
    expect(linkStaysInside('/usr/lib/x', '../../bin/y')).to.equal(true);
    expect(linkStaysInside('/usr/lib/x', '../../../y')).to.equal(false);
  });

  it('archive entries: relative, no "..", no absolute path', () => {
    expect(entryPath('g', './usr/bin/greet')).to.equal('/usr/bin/greet');
    expect(entryPath('g', 'usr/bin/')).to.equal('/usr/bin');
    expect(entryPath('g', './')).to.equal(null);
    expect(why(() => entryPath('g', '/etc/passwd'))).to.match(/^unsafe_archive: .*absolute/);
    expect(why(() => entryPath('g', 'usr/../../etc/passwd'))).to.match(/^unsafe_archive: .*"\.\."/);
  });

  it('plans: the agreed shape, on the server\'s origin, dependencies first', () => {
    const client = {
      onOrigin: (u: string) => {
        if (new URL(u).origin !== 'http://s') throw new Error(`refusing ${u} on another origin`);
        return u;
      },
    };
    const pkg = (name: string, pkgid: number, resolved: Record<string, number> = {}, url = `http://s/pkg/${pkgid}/binaries/x86_64`) => ({
      name, version: '1.0', pkgid, pkgurl: `http://s/pkg/${pkgid}`, arch: 'x86_64', explicit: true, installed_size: 1,
      dependencies: Object.fromEntries(Object.keys(resolved).map((k) => [k, '*'])), resolved,
      binaries: { url, size: 1, sha256: H('a') }, manifest: { url: `${url}/manifest`, sha256: H('b') },
    });
    const good = { arch: 'x86_64', requested: ['greet'], packages: [pkg('libgreet', 1), pkg('greet', 2, { libgreet: 1 })] };
    expect(checkPlan(client, good, 'x86_64', new Map()).packages.map((x) => x.name)).to.deep.equal(['libgreet', 'greet']);
    expect(why(() => checkPlan(client, { ...good, packages: [...good.packages].reverse() }, 'x86_64', new Map()))).to.match(/dependency libgreet \(pkgid 1\) comes neither before it nor is it installed/);
    expect(why(() => checkPlan(client, { ...good, packages: [pkg('greet', 2, {}, 'http://evil/x')] }, 'x86_64', new Map()))).to.match(/^bad_request: .*another origin/);
    expect(why(() => checkPlan(client, good, 'aarch64', new Map()))).to.match(/it is for x86_64, not aarch64/);
    expect(why(() => checkPlan(client, { arch: 'x86_64', packages: 'no' }, 'x86_64', new Map()))).to.match(/^bad_request: the server's install plan is invalid: requested: /);
    const installed = dbOf(rec('libgreet', [], { pkgid: 1 }));
    expect(checkPlan(client, { ...good, packages: [good.packages[1]], unchanged: [] }, 'x86_64', installed).packages).to.have.length(1);
  });
});
