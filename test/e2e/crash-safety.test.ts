// Crash safety at CI size (issue 8, item 2; the 50-kill run with VM builds is
// reliability/crash-harness.ts, same code): `morphux serve` is SIGKILLed 6 times at seeded random
// moments while clients push, upload, comment, report, tag and vote; after every restart nothing
// acknowledged is lost, nothing half-written or uncommitted is in the store, and fsck is clean.
// The embedded build worker is off: submissions stay queued (builds resuming: restart.test.ts).
import { expect } from 'chai';
import { runCrashHarness } from '../../reliability/run-crash-harness.js';

const KILLS = 6;
const SEED = 8;

describe('crash safety: SIGKILL during a mixed workload', function () {
  this.timeout(300_000);

  it(`${KILLS} kills (seed ${SEED}) lose nothing acknowledged and leave nothing half-written`, async () => {
    const r = await runCrashHarness({
      kills: KILLS, seed: SEED, clients: 3, worker: false, submissions: 8,
      delayMs: { short: [300, 3000], long: [3000, 6000], longShare: 0.2 }, aimedShare: 0.5, drainTimeoutMs: 0,
    });
    expect(r.problems).to.deep.equal([]);
    expect(r.kills).to.have.length(KILLS);
    expect(r.kills.filter((k) => k.interrupted.length > 0).length, 'kills that cut an operation').to.be.greaterThan(0);
    expect(r.acknowledged.push + r.acknowledged.upload).to.be.greaterThan(3);
    expect(r.acknowledged.comment + r.acknowledged.report + r.acknowledged.tag + r.acknowledged.vote).to.be.greaterThan(10);
    expect(r.submissions).to.be.at.least(r.acknowledged.push + r.acknowledged.upload);
  });
});
