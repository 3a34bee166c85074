// What a package shows (its face: description, category, tags; and the list's latest version)
// comes only from submissions that /port/<name> could serve: made by a maintainer or an admin
// (recorded at submission time), or flagged stable. A plain user's submission is listed and counted
// but never speaks for the package. Old stores, whose files have no submitter_role: a git push
// counts as a maintainer's, an upload as a user's. The incremental index and the tree's
// derivation (reindex, fsck) agree.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { createSubmission } from '../../src/store/changes/create-submission.js';
import { deriveIndexes } from '../../src/store/layout/derive-indexes.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { queryEligible, readPortIndex, takeFace, type PortIndex, type PortIndexEntry } from '../../src/store/layout/port-index.js';
import { Interner, summarise, type PortListItem } from '../../src/store/catalog/port-summary.js';
import { setStableFlag } from '../../src/store/changes/set-stable-flag.js';
import { Store } from '../../src/store/tree/store.js';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { roleOf, speaksForPackage, type SubmitterRole } from '../../src/domain/submission.js';
import { packFixture } from '../support/portpkgs.js';

function entry(pkgid: number, version: string, over: Partial<PortIndexEntry> = {}): PortIndexEntry {
  return {
    pkgid, version, state: 'good', reason: null, submitter: 'alice', submitter_role: 'maintainer',
    submitted_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', commit: null, stable: false,
    tags: [], votes: 0, failed_reports: 0, ...over,
  };
}

const row = (ix: PortIndex): PortListItem => JSON.parse(summarise(ix, new Interner()).summary.row) as PortListItem;
const index = (submissions: PortIndexEntry[]): PortIndex => ({ name: 'hello', description: 'Hello', category: 'utils', tags: ['cli'], submissions });

describe('package face: summarise', () => {
  it("a user's higher version is not the package's latest", () => {
    const r = row(index([entry(1, '1.0'), entry(2, '9.0', { submitter: 'mallory', submitter_role: 'user', votes: 3 })]));
    expect(r).to.include({ latest_version: '1.0', latest_pkgid: 1, votes: 3, description: 'Hello' });
  });

  it("an admin's submission counts; a user's flagged stable counts too", () => {
    expect(row(index([entry(1, '1.0'), entry(2, '2.0', { submitter: 'root', submitter_role: 'admin' })]))).to.include({ latest_version: '2.0', latest_pkgid: 2 });
    const r = row(index([entry(1, '1.0'), entry(2, '9.0', { submitter: 'mallory', submitter_role: 'user', stable: true })]));
    expect(r).to.include({ latest_version: '9.0', latest_pkgid: 2, stable_pkgid: 2 });
  });

  it('only users: no latest version, but the submissions still count', () => {
    const r = row(index([entry(1, '9.0', { submitter_role: 'user', state: 'failed' })]));
    expect(r).to.include({ latest_version: null, latest_pkgid: null, failures: 1 });
    const s = summarise(index([entry(1, '9.0', { submitter: 'mallory', submitter_role: 'user' })]), new Interner()).summary;
    expect(s.submitters).to.deep.equal(['mallory']);
    expect(s.newestPkgid).to.equal(1);
  });

  it('entries of an older index (no submitter_role): a git push speaks for the package, an upload does not', () => {
    const old = (pkgid: number, version: string, commit: string | null) => {
      const e = entry(pkgid, version, { commit });
      delete e.submitter_role;
      return e;
    };
    const r = row(index([old(1, '1.0', 'a'.repeat(40)), old(2, '9.0', null)]));
    expect(r).to.include({ latest_version: '1.0', latest_pkgid: 1 });
    expect(queryEligible(old(3, '1.0', 'b'.repeat(40)))).to.equal(true);
    expect(queryEligible(old(4, '1.0', null))).to.equal(false);
    expect(queryEligible({ ...old(5, '1.0', null), stable: true })).to.equal(true);
  });
});

describe('package face: roles', () => {
  const git = { type: 'git' as const, repo: 'hello', ref: 'refs/heads/version-1.0', commit: 'c'.repeat(40) };
  const up = { type: 'upload' as const, filename: null };

  it('reads the recorded role, else the legacy rule by source', () => {
    expect(roleOf({ submitter_role: 'admin', source: up })).to.equal('admin');
    expect(roleOf({ submitter_role: 'user', source: git })).to.equal('user');
    expect(roleOf({ submitter_role: 'maintainer', commit: null })).to.equal('maintainer');
    expect(roleOf({ source: git })).to.equal('maintainer');
    expect(roleOf({ source: up })).to.equal('user');
    expect(roleOf({ commit: 'd'.repeat(40) })).to.equal('maintainer');
    expect(roleOf({ commit: null })).to.equal('user');
    expect(roleOf({ submitter_role: 'owner', source: git })).to.equal('user'); // unknown: speaks for nobody
    expect(speaksForPackage({ source: git })).to.equal(true);
    expect(speaksForPackage({ submitter_role: 'user', commit: 'e'.repeat(40) })).to.equal(false);
  });

  it("takeFace: a maintainer's or admin's newest submission, never a user's", () => {
    const ix: PortIndex = { name: 'hello', description: '', category: null, tags: [], submissions: [] };
    const face = (d: string) => ({ description: d, category: d, tags: [d] });
    const add = (pkgid: number, role: SubmitterRole, d: string) => {
      takeFace(ix, pkgid, role, face(d));
      ix.submissions.push(entry(pkgid, '1.0', { submitter_role: role }));
      ix.submissions.sort((a, b) => a.pkgid - b.pkgid);
    };
    add(1, 'user', 'evil');
    expect(ix).to.include({ description: '', category: null }).and.to.have.deep.property('tags', []);
    add(2, 'maintainer', 'hello');
    expect(ix.description).to.equal('hello');
    add(3, 'user', 'evil');
    expect(ix.description).to.equal('hello');
    add(5, 'admin', 'admin');
    expect(ix.description).to.equal('admin');
    add(4, 'maintainer', 'older'); // a lower pkgid (a counter behind the tree) does not override a newer face
    expect(ix).to.include({ description: 'admin', category: 'admin' });
  });
});

describe('package face: the store', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'store-face-'));
    store = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a user's submission is indexed with its role and leaves the face alone; derivation and fsck agree", async () => {
    const submit = async (version: string, submitter: string, role: SubmitterRole, description: string, category: string, tags: string[]) => {
      const manifest = { name: 'hello', version, description, category, tags } as never;
      return createSubmission(store, { manifest, submitter, submitterRole: role, source: { type: 'upload', filename: null }, tgz: await packFixture('hello') });
    };
    const a = await submit('1.0', 'alice', 'maintainer', 'Hello', 'utils', ['cli']);
    const m = await submit('9.0', 'mallory', 'user', 'DEPRECATED - get it from http://evil.example instead', 'evil', ['evil']);
    expect(a.submitter_role).to.equal('maintainer');
    expect(m.submitter_role).to.equal('user');
    let ix = (await readPortIndex(store, 'hello'))!;
    expect(ix).to.include({ description: 'Hello', category: 'utils' });
    expect(ix.tags).to.deep.equal(['cli']);
    expect(ix.submissions.map((e) => [e.pkgid, e.submitter_role])).to.deep.equal([[a.pkgid, 'maintainer'], [m.pkgid, 'user']]);
    expect(row(ix)).to.include({ latest_version: '1.0', latest_pkgid: a.pkgid });

    // stable makes it the latest, but not the face
    await updateStatus(store, m.pkgid, { message: 'built', actor: 'morphux', change: (st) => { st.state = 'good'; } });
    await setStableFlag(store, m.pkgid, 'alice', true);
    ix = (await readPortIndex(store, 'hello'))!;
    expect(ix.description).to.equal('Hello');
    expect(row(ix)).to.include({ latest_version: '9.0', latest_pkgid: m.pkgid });

    const derived = (await deriveIndexes(store)).indexes.get('hello');
    expect(JSON.stringify(derived)).to.equal(JSON.stringify(ix));
    const report = await store.locked(() => fsckStore(store));
    expect(report.problems, JSON.stringify(report.problems)).to.deep.equal([]);
  });
});
