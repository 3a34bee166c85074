// Queue bench (issue 7): the build queue's own latency and throughput, embedded vs BullMQ on a real
// redis-server, with 1 and 2 consumers (workers). Latency: an idle worker waiting in take(), one job
// enqueued, time until take() returns (p50/p99 of 200). Throughput: 300 jobs queued at once, each
// "built" in 0 ms (the queue's ceiling) and in 50 ms, then done(): jobs per minute.
// With --vm K: K submissions of the hello fixture built in real VMs through a real server, embedded
// (concurrency 1 and 2) and redis (1 and 2 `morphux worker` processes): builds per minute, and the
// wait from submission to the build starting (p50/p99, polled every 200 ms).
// Run: npx tsx bench/queue.ts [--vm 3]   (needs redis-server on PATH; results: docs/BENCHMARKS.md)
import { randomUUID } from 'node:crypto';
import { EmbeddedQueue, type BuildJobRef, type BuildQueue } from '../src/builder/build-queue.js';
import { RedisQueue } from '../src/builder/redis-queue.js';
import { silentLogger } from '../src/lib/logger.js';
import { startRedis } from '../test/support/redis-server.js';
import { vmBench } from './queue-vm.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

type Make = (n: number) => BuildQueue[];

async function latency(make: Make, consumers: number, samples = 200): Promise<number[]> {
  const qs = make(consumers);
  const ac = new AbortController();
  const got = new Map<number, number>();
  const loops = qs.map(async (q) => {
    for (;;) {
      let j: BuildJobRef;
      try { j = await q.take(ac.signal); } catch { return; }
      got.set(j.pkgid, performance.now());
      q.done(j);
    }
  });
  await new Promise((r) => setTimeout(r, 300)); // workers waiting
  const out: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const t0 = performance.now();
    await qs[i % qs.length]!.enqueue({ pkgid: i, arch: 'x86_64' });
    while (!got.has(i)) await new Promise((r) => setImmediate(r));
    out.push(got.get(i)! - t0);
  }
  ac.abort(new Error('done'));
  await Promise.all(qs.map((q) => q.close()));
  await Promise.allSettled(loops);
  return out;
}

async function throughput(make: Make, consumers: number, buildMs: number, jobs = 300): Promise<number> {
  const qs = make(consumers);
  for (let i = 1; i <= jobs; i++) await qs[0]!.enqueue({ pkgid: i, arch: 'x86_64' });
  const ac = new AbortController();
  let n = 0;
  const t0 = performance.now();
  const finished = new Promise<void>((resolve) => {
    for (const q of qs) void (async () => {
      for (;;) {
        let j: BuildJobRef;
        try { j = await q.take(ac.signal); } catch { return; }
        if (buildMs) await new Promise((r) => setTimeout(r, buildMs));
        q.done(j);
        if (++n === jobs) resolve();
      }
    })();
  });
  await finished;
  const perMin = jobs / ((performance.now() - t0) / 60_000);
  ac.abort(new Error('done'));
  await Promise.all(qs.map((q) => q.close()));
  return perMin;
}

const redis = await startRedis();
try {
  const embedded: Make = (n) => {
    // one in-process queue shared by n consumers (builder.concurrency n)
    const q = new EmbeddedQueue();
    const shared = { ...q, enqueue: q.enqueue.bind(q), take: q.take.bind(q), done: q.done.bind(q), waiting: q.waiting.bind(q), running: q.running.bind(q), progress: q.progress.bind(q), close: async () => {} };
    return Array.from({ length: n }, () => shared);
  };
  const redisMake: Make = (n) => {
    // one RedisQueue per consumer, as separate `morphux worker` processes would have
    const prefix = `b${randomUUID().slice(0, 8)}`;
    return Array.from({ length: n }, () => new RedisQueue({ url: redis.url, arches: ['x86_64'], log: silentLogger, prefix }));
  };
  const rows: string[] = ['| queue | workers | latency p50 (ms) | latency p99 (ms) | jobs/min, 0 ms build | jobs/min, 50 ms build |', '|---|---|---|---|---|---|'];
  for (const [name, make] of [['embedded', embedded], ['redis (BullMQ)', redisMake]] as const) {
    for (const consumers of [1, 2]) {
      const lat = await latency(make, consumers);
      const t0 = await throughput(make, consumers, 0);
      const t50 = await throughput(make, consumers, 50);
      rows.push(`| ${name} | ${consumers} | ${pct(lat, 50).toFixed(2)} | ${pct(lat, 99).toFixed(2)} | ${Math.round(t0)} | ${Math.round(t50)} |`);
      console.error(rows[rows.length - 1]);
    }
  }
  console.log(rows.join('\n'));
  const k = process.argv.indexOf('--vm');
  if (k > 0) console.log(await vmBench(redis.url, Number(process.argv[k + 1] ?? 3)));
} finally {
  await redis.stop();
}
