// Concurrent pushes to several repos at once (issue 8, item 1, at CI size; the 20 × 10 run is
// reliability/concurrent-pushes.ts, same code): every push is acknowledged with its own pkgid
// (distinct, never reused), nothing is lost, the indexes equal a fresh `morphux store reindex` and
// `morphux store fsck` is clean. No VM: the embedded worker is off, submissions stay queued.
import { expect } from 'chai';
import { runConcurrentPushes } from '../../reliability/run-concurrent-pushes.js';

const REPOS = 8;
const PUSHES = 5;

describe('concurrent pushes', function () {
  this.timeout(600_000);

  it(`${REPOS} repos × ${PUSHES} version branches pushed at once → ${REPOS * PUSHES} distinct pkgids, none lost, indexes = reindex, fsck clean`, async () => {
    const r = await runConcurrentPushes({ repos: REPOS, pushes: PUSHES });
    expect(r.refused).to.deep.equal([]);
    expect(r.acknowledged).to.equal(REPOS * PUSHES);
    expect(r.distinctPkgids).to.equal(REPOS * PUSHES);
    expect(r.lost).to.deep.equal([]);
    expect(r.tree).to.deep.equal([]);
    expect(r.reindex.differences).to.deep.equal([]);
    expect(r.reindex.files).to.equal(REPOS);
    expect(r.fsck.problems).to.deep.equal([]);
    expect(r.fsck.submissions).to.equal(REPOS * PUSHES);
  });
});
