// The rebuild check's pure parts (domain/rebuild.ts): two manifests compared file by file into a
// verdict and the differing files, the submission's verdict merged over its arches, the sampling
// rule and the filter's words; the deterministic binaries archive (pack-binaries.ts: same files,
// other mtimes, owners, inode order → the same bytes); the queue taking builds before rebuilds.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chown, link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { EmbeddedQueue } from '../../src/builder/build-queue.js';
import { packBinaries } from '../../src/builder/vm/pack-binaries.js';
import { environmentLines } from '../../src/builder/vm/phase-script.js';
import {
  compareManifests, doneRebuild, firstBuildEnvironment, mergeReproducible, parseReproducibleFilter, queuedRebuild,
  rebuildEnvironment, rebuildWanted, type ManifestFile, type RebuildRecord,
} from '../../src/domain/rebuild.js';
import { jobKey } from '../../src/domain/worker-protocol.js';
import { codeOf } from '../support/error-codes.js';

const file = (p: string, sha: string, mode = 0o644): ManifestFile => ({ path: p, type: 'file', mode, size: 1, sha256: sha.repeat(64).slice(0, 64) });
const dir = (p: string, mode = 0o755): ManifestFile => ({ path: p, type: 'dir', mode, size: 0 });

describe('rebuild check: comparing two builds', () => {
  const first = [dir('/usr'), dir('/usr/bin'), file('/usr/bin/hello', 'a', 0o755), { path: '/usr/bin/hi', type: 'symlink', mode: 0o777, target: 'hello' }];

  it('the same files in another order: reproducible, no differences', () => {
    expect(compareManifests(first, [...first].reverse())).to.deep.equal({ reproducible: true, differences: [] });
  });

  it('a file whose sha256 differs, one whose mode differs, one only in each build: listed in path order with both sides', () => {
    const second = [dir('/usr'), dir('/usr/bin', 0o775), file('/usr/bin/hello', 'b', 0o755), { path: '/usr/bin/hi', type: 'symlink', mode: 0o777, target: 'hello' }, file('/usr/bin/new', 'c')];
    const r = compareManifests([...first, file('/usr/bin/gone', 'd')], second);
    expect(r.reproducible).to.equal(false);
    expect(r.differences.map((d) => d.path)).to.deep.equal(['/usr/bin', '/usr/bin/gone', '/usr/bin/hello', '/usr/bin/new']);
    const [bin, gone, hello, added] = r.differences;
    expect([bin!.first!.mode, bin!.second!.mode]).to.deep.equal(['0755', '0775']);
    expect(gone!.second).to.equal(null);
    expect(added!.first).to.equal(null);
    expect(hello!.first!.sha256).to.match(/^a+$/);
    expect(hello!.second!.sha256).to.match(/^b+$/);
  });

  it('a link target or a type that differs is a difference', () => {
    const r = compareManifests(first, [dir('/usr'), dir('/usr/bin'), file('/usr/bin/hello', 'a', 0o755), { path: '/usr/bin/hi', type: 'symlink', mode: 0o777, target: 'other' }]);
    expect(r.differences.map((d) => d.path)).to.deep.equal(['/usr/bin/hi']);
    expect(compareManifests([file('/x', 'a')], [dir('/x', 0o644)]).reproducible).to.equal(false);
  });

  it('the record keeps at most 200 differences and counts them all', () => {
    const many = Array.from({ length: 250 }, (_, i) => file(`/f${String(i).padStart(3, '0')}`, 'a'));
    const other = many.map((f) => ({ ...f, sha256: 'b'.repeat(64) }));
    const r = doneRebuild({ ...queuedRebuild('2026-01-01T00:00:00Z'), state: 'running', attempts: 1 }, compareManifests(many, other), '2026-01-01T00:01:00Z', { environment: null, binaries_sha256: null });
    expect(r).to.include({ state: 'done', reproducible: false, differences_total: 250 });
    expect(r.differences).to.have.length(200);
  });

  it('the verdict over arches: false as soon as one is not reproducible, true only when every one is', () => {
    const done = (reproducible: boolean): { rebuild: RebuildRecord } => ({ rebuild: { ...queuedRebuild('t'), state: 'done', reproducible } });
    const queued = { rebuild: queuedRebuild('t') };
    expect(mergeReproducible({ x86_64: done(true) }, ['x86_64'])).to.equal(true);
    expect(mergeReproducible({ x86_64: done(true) }, ['x86_64', 'aarch64'])).to.equal('unchecked');
    expect(mergeReproducible({ x86_64: done(true), aarch64: done(false) }, ['x86_64', 'aarch64'])).to.equal(false);
    expect(mergeReproducible({ x86_64: queued }, ['x86_64'])).to.equal('unchecked');
    expect(mergeReproducible({ x86_64: {} }, ['x86_64'])).to.equal('unchecked');
    expect(mergeReproducible(undefined, ['x86_64'])).to.equal('unchecked');
  });

  it('which builds get the check: every, none, or a stable sample near its rate', () => {
    expect(rebuildWanted({ when: 'every', sample_rate: 0 }, 1, 'x86_64')).to.equal(true);
    expect(rebuildWanted({ when: 'none', sample_rate: 1 }, 1, 'x86_64')).to.equal(false);
    const sampled = Array.from({ length: 2000 }, (_, i) => rebuildWanted({ when: 'sample', sample_rate: 0.25 }, i + 1, 'x86_64')).filter(Boolean).length;
    expect(sampled).to.be.within(400, 600);
    expect(rebuildWanted({ when: 'sample', sample_rate: 0.25 }, 17, 'x86_64')).to.equal(rebuildWanted({ when: 'sample', sample_rate: 0.25 }, 17, 'x86_64'));
  });

  it('?reproducible= takes true, false, unchecked or nothing; anything else is bad_request', () => {
    expect(parseReproducibleFilter('true')).to.equal(true);
    expect(parseReproducibleFilter('false')).to.equal(false);
    expect(parseReproducibleFilter('unchecked')).to.equal('unchecked');
    expect(parseReproducibleFilter('')).to.equal(undefined);
    expect(codeOf(() => parseReproducibleFilter('maybe'))).to.equal('bad_request');
  });

  it('the rebuild varies every fact but SOURCE_DATE_EPOCH, which both export', () => {
    const a = firstBuildEnvironment(1_700_000_000);
    const b = rebuildEnvironment(1_700_000_000);
    expect(b.source_date_epoch).to.equal(a.source_date_epoch);
    for (const k of ['tz', 'lang', 'umask', 'hostname', 'clock_shift_seconds'] as const) expect(b[k], k).to.not.equal(a[k]);
    expect(environmentLines(b)).to.contain('export SOURCE_DATE_EPOCH=1700000000 ').and.contain("TZ='GMT-14'").and.contain('umask 0002');
  });
});

describe('rebuild check: a deterministic binaries archive', () => {
  let tmp: string;
  before(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'morphux-pack-')); });
  after(async () => { await rm(tmp, { recursive: true, force: true }); });

  /** One install's upper layer, its files written in the given order with the given mtime and owner. */
  async function upper(name: string, order: string[], mtime: number, owner: number): Promise<string> {
    const u = path.join(tmp, name);
    for (const p of order) {
      await mkdir(path.dirname(path.join(u, p)), { recursive: true });
      await writeFile(path.join(u, p), `content of ${p}\n`);
    }
    await symlink('hello', path.join(u, 'usr/bin/hi'));
    await link(path.join(u, 'usr/bin/hello'), path.join(u, 'usr/bin/hello-again'));
    for (const p of [...order, 'usr/bin', 'usr/share/doc/hello', 'usr/share/doc', 'usr/share', 'usr']) {
      if (process.getuid?.() === 0) await chown(path.join(u, p), owner, owner);
      await utimes(path.join(u, p), mtime, mtime);
    }
    return u;
  }

  it('the same files written in another order, at other times, by other owners: the same bytes, mtimes clamped, owner 0', async () => {
    const files = ['usr/bin/hello', 'usr/share/doc/hello/README', 'usr/share/doc/hello/NEWS'];
    const sde = 1_600_000_000;
    const a = await upper('a', files, sde + 1000, 0);
    const b = await upper('b', [...files].reverse(), sde + 999_999, 1234);
    const [fa, fb] = [path.join(tmp, 'a.tar.gz'), path.join(tmp, 'b.tar.gz')];
    await packBinaries(a, fa, sde);
    await packBinaries(b, fb, sde);
    const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
    expect(await sha(fa)).to.equal(await sha(fb));
    const entries: Array<{ path: string; mtime: number; uid: number; gid: number; uname: string; type: string }> = [];
    await list({ file: fa, onReadEntry: (e) => { entries.push({ path: e.path, mtime: e.mtime!.getTime() / 1000, uid: e.uid!, gid: e.gid!, uname: e.uname ?? '', type: e.type }); } });
    expect(entries.map((e) => e.path)).to.deep.equal([...entries.map((e) => e.path)].sort());
    expect(entries.every((e) => e.mtime === sde && e.uid === 0 && e.gid === 0 && e.uname === '')).to.equal(true);
    expect(entries.find((e) => e.path === 'usr/bin/hello-again')?.type).to.equal('Link');
    // the gzip header carries no time (bytes 4–7)
    expect((await readFile(fa)).readUInt32LE(4)).to.equal(0);
  });

  it('an mtime before SOURCE_DATE_EPOCH is kept', async () => {
    const sde = 1_600_000_000;
    const u = await upper('c', ['usr/bin/hello', 'usr/share/doc/hello/README'], sde - 5000, 0);
    const f = path.join(tmp, 'c.tar.gz');
    await packBinaries(u, f, sde);
    const mtimes: number[] = [];
    await list({ file: f, onReadEntry: (e) => { mtimes.push(e.mtime!.getTime() / 1000); } });
    expect(mtimes).to.include(sde - 5000);
  });
});

describe('rebuild check: a job on the build queue', () => {
  it('a rebuild is a job of its own key, taken after every waiting build', async () => {
    const q = new EmbeddedQueue();
    await q.enqueue({ pkgid: 1, arch: 'x86_64', kind: 'rebuild' });
    await q.enqueue({ pkgid: 1, arch: 'x86_64', kind: 'rebuild' });
    await q.enqueue({ pkgid: 5, arch: 'x86_64' });
    await q.enqueue({ pkgid: 1, arch: 'x86_64' });
    expect(q.waiting().map(jobKey)).to.deep.equal(['1:x86_64', '5:x86_64', '1:x86_64:rebuild']);
    const stop = new AbortController();
    expect(jobKey(await q.take(stop.signal))).to.equal('1:x86_64');
  });
});
