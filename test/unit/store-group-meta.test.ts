// Meta changes grouped into one commit keep the package's index right: the index is refreshed
// once per package per commit (change-meta.ts), and the stable flag's single holder is found from
// the flags files, so two flags set in one group leave one stable submission. fsck must agree.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { addComment } from '../../src/store/changes/add-comment.js';
import { addUserReport } from '../../src/store/changes/add-user-report.js';
import { createSubmission } from '../../src/store/changes/create-submission.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { readPortIndex } from '../../src/store/layout/port-index.js';
import { setStableFlag } from '../../src/store/changes/set-stable-flag.js';
import { setVote } from '../../src/store/changes/set-vote.js';
import { Store } from '../../src/store/tree/store.js';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { packFixture } from '../support/portpkgs.js';

describe('grouped meta changes and the index', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'store-meta-'));
    store = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await store.open();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps votes, failed reports and one stable holder right when many changes share commits', async () => {
    const tgz = await packFixture('hello');
    const ids: number[] = [];
    for (const version of ['1.0', '1.1', '1.2']) {
      const info = await createSubmission(store, { manifest: { name: 'hello', version } as never, submitter: 'alice', submitterRole: 'maintainer', source: { type: 'upload', filename: null } as never, tgz });
      await updateStatus(store, info.pkgid, { message: 'built', actor: 'morphux', change: (s) => { s.state = 'good'; } });
      ids.push(info.pkgid);
    }
    const [a, b, c] = ids as [number, number, number];
    const voters = Array.from({ length: 12 }, (_, i) => `user${i}`);
    await Promise.all([
      ...voters.map((u) => setVote(store, a, u, true)),
      ...voters.slice(0, 5).map((u) => setVote(store, b, u, true)),
      ...Array.from({ length: 7 }, (_, i) => addUserReport(store, c, `user${i}`, { status: i % 2 ? 'ok' : 'failed', arch: 'x86_64', message: null, log: null })),
      ...Array.from({ length: 20 }, (_, i) => addComment(store, b, 'bob', `comment ${i}`)),
      setStableFlag(store, a, 'alice', true),
      setStableFlag(store, b, 'alice', true),
    ]);
    const ix = (await readPortIndex(store, 'hello'))!;
    const entry = (id: number) => ix.submissions.find((e) => e.pkgid === id)!;
    expect(entry(a).votes).to.equal(12);
    expect(entry(b).votes).to.equal(5);
    expect(entry(c).failed_reports).to.equal(4);
    expect(ix.submissions.filter((e) => e.stable).map((e) => e.pkgid)).to.deep.equal([b]);
    const report = await store.locked(() => fsckStore(store));
    expect(report.problems, JSON.stringify(report.problems)).to.deep.equal([]);
  });
});
