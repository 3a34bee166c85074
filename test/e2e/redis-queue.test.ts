// The BullMQ build queue against a real redis-server: a job queued twice is taken once, two
// workers share the jobs with none taken twice, delayed jobs wait, a job whose worker dies (its
// lock no longer extended) is taken by the other worker within lock + check interval, a retry
// queued right after done is taken again, and build progress is stored on the job: seen by
// another process's queue and, from a real build worker, as BullMQ progress events.
import { expect } from 'chai';
import { QueueEvents } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import type { BuildProgress } from '../../src/builder/build-progress.js';
import type { BuildJobRef } from '../../src/builder/build-queue.js';
import { queueName, RedisQueue, redisJobId } from '../../src/builder/redis-queue.js';
import { packFixture, upload } from '../support/portpkgs.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, waitState } from '../support/test-server.js';

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

  it('takes a job queued again right after done (a retry) once more', async () => {
    const q = make(`t${randomUUID().slice(0, 8)}`);
    await q.enqueue({ pkgid: 7, arch: 'x86_64' });
    const j = await takeWithin(q, 5000);
    q.done(j!);
    await q.enqueue({ pkgid: 7, arch: 'x86_64' }); // same job id, while its completion is still on its way
    const again = await takeWithin(q, 5000);
    expect(again?.pkgid).to.equal(7);
    q.done(again!);
  });

  it('stores a build\'s progress on its job: another process\'s queue lists it running, with the progress', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const worker = make(prefix);
    const primary = make(prefix);
    await worker.enqueue({ pkgid: 11, arch: 'x86_64' });
    const j = (await takeWithin(worker, 5000))!;
    worker.progress(j, { phase: 'building', percent: 42, detail: 'step 2/3' });
    expect(worker.running()).to.deep.equal([{ pkgid: 11, arch: 'x86_64', progress: { phase: 'building', percent: 42, detail: 'step 2/3' } }]);
    let seen = primary.running();
    for (const until = Date.now() + 6000; !seen.length && Date.now() < until; seen = primary.running()) await new Promise((r) => setTimeout(r, 200));
    expect(seen).to.deep.equal([{ pkgid: 11, arch: 'x86_64', progress: { phase: 'building', percent: 42, detail: 'step 2/3' } }]);
    worker.done(j);
  });

  it('reports a real build job\'s phases as BullMQ progress (a build worker, a dependency that fails before any VM)', async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `queue: {kind: redis, url: "${redis.url}"}\n`);
    const u = new URL(redis.url);
    const events = new QueueEvents(queueName('x86_64'), { connection: { host: u.hostname, port: Number(u.port) } });
    await events.waitUntilReady();
    const seen: Array<{ jobId: string; data: BuildProgress }> = [];
    events.on('progress', ({ jobId, data }) => { seen.push({ jobId, data: data as BuildProgress }); });
    const s = await startTestServer({ data, worker: true });
    try {
      const r = await upload(s, await packFixture('uses-hello'), s.adminToken); // hello is not in the store
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
      const done = await waitState(s.url, r.json.pkgid, 30_000);
      expect(done.status.reason).to.equal('dependency');
      const id = redisJobId({ pkgid: r.json.pkgid, arch: 'x86_64' });
      for (const until = Date.now() + 3000; seen.filter((e) => e.jobId === id).length < 2 && Date.now() < until;) await new Promise((res) => setTimeout(res, 100));
      const mine = seen.filter((e) => e.jobId === id).map((e) => e.data);
      expect(mine.map((p) => p.phase)).to.deep.equal(['resolving', 'uploading']);
      expect(mine[0].percent).to.be.below(mine[1].percent);
    } finally {
      await s.close();
      await events.close();
    }
  });
});
