// The BullMQ build queue against a real redis-server: a job queued twice is taken once, two
// workers share the jobs with none taken twice, delayed jobs wait, and a job whose worker dies
// (its lock no longer extended) is taken by the other worker within lock + check interval.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/config/logger.js';
import type { BuildJobRef } from '../../src/builder/build-queue.js';
import { RedisQueue } from '../../src/builder/redis-queue.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

describe('redis build queue (BullMQ on a real redis-server)', function () {
  this.timeout(60_000);
  let redis: TestRedis;
  const queues: RedisQueue[] = [];
  const make = (prefix: string, lockMs = 60_000, stalledCheckMs = 30_000) => {
    const q = new RedisQueue({ url: redis.url, arches: ['x86_64'], log: silentLogger, prefix, lockMs, stalledCheckMs });
    queues.push(q);
    return q;
  };
  const takeWithin = async (q: RedisQueue, ms: number): Promise<BuildJobRef | null> => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error('no job')), ms);
    try { return await q.take(ac.signal); } catch { return null; } finally { clearTimeout(t); }
  };

  before(async () => { redis = await startRedis(); });
  after(async () => {
    await Promise.allSettled(queues.map((q) => q.close()));
    await redis?.stop();
  });

  it('builds a job queued twice once, and shares jobs between two workers without overlap', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const a = make(prefix);
    const b = make(prefix);
    for (const pkgid of [1, 2, 3, 4, 5, 6]) await a.enqueue({ pkgid, arch: 'x86_64' });
    await b.enqueue({ pkgid: 3, arch: 'x86_64' }); // a duplicate
    const taken: number[] = [];
    await Promise.all([a, b].map(async (q) => {
      for (;;) {
        const j = await takeWithin(q, 3000);
        if (!j) return;
        taken.push(j.pkgid);
        q.done(j);
      }
    }));
    expect([...taken].sort()).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('holds a delayed job back until its time', async () => {
    const q = make(`t${randomUUID().slice(0, 8)}`);
    const t0 = Date.now();
    await q.enqueue({ pkgid: 9, arch: 'x86_64' }, { delayMs: 1500 });
    const j = await takeWithin(q, 10_000);
    expect(j?.pkgid).to.equal(9);
    expect(Date.now() - t0).to.be.greaterThan(1400);
    q.done(j!);
  });

  it('gives the job of a worker that died to another within lock + check interval', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const dying = make(prefix, 2000, 1000);
    const other = make(prefix, 2000, 1000);
    await dying.enqueue({ pkgid: 42, arch: 'x86_64' });
    const j = await takeWithin(dying, 5000);
    expect(j?.pkgid).to.equal(42);
    await dying.close(); // dies: its lock is no longer extended, the job is never completed
    const t0 = Date.now();
    const again = await takeWithin(other, 15_000);
    expect(again?.pkgid).to.equal(42);
    expect(Date.now() - t0).to.be.lessThan(8000);
    other.done(again!);
  });
});
