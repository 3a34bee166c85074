// The VM half of bench/queue.ts: K hello builds in real VMs through a real server, with the embedded
// queue (builder.concurrency 1, 2) and with Redis and 1 or 2 `morphux worker` processes.
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packFixture, upload } from '../test/support/portpkgs.js';
import { api, startTestServer } from '../test/support/test-server.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'morphux.ts');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function run(redisUrl: string, kind: 'embedded' | 'redis', n: number, k: number): Promise<string> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-bench-'));
  await writeFile(path.join(data, 'morphux.yaml'), kind === 'embedded'
    ? `builder: {concurrency: ${n}}\n`
    : `queue: {kind: redis, url: "${redisUrl}/${n}"}\nbuilder: {embedded_worker: false}\n`);
  const s = await startTestServer({ data, worker: kind === 'embedded' });
  const procs: ResultPromise[] = [];
  const dirs: string[] = [];
  try {
    if (kind === 'redis') {
      for (let i = 0; i < n; i++) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-bench-worker-'));
        dirs.push(dir);
        procs.push(execa(process.execPath, ['--import', 'tsx', CLI, 'worker', '--data', dir, '--server', s.url, '--token', s.adminToken, '--redis', `${redisUrl}/${n}`, '--concurrency', '1'], { detached: true, reject: false, stdio: 'ignore' }));
      }
      await new Promise((r) => setTimeout(r, 3000)); // workers connected
    }
    const submitted = new Map<number, number>();
    const started = new Map<number, number>();
    const tgzs = await Promise.all(Array.from({ length: k }, (_, i) => packFixture('hello', (p) => { p.version = `2.${i}`; })));
    const t0 = Date.now();
    for (const tgz of tgzs) {
      const r = await upload(s, tgz, s.adminToken);
      submitted.set(r.json.pkgid, Date.now());
    }
    const done = new Set<number>();
    while (done.size < k) {
      for (const id of submitted.keys()) {
        if (done.has(id)) continue;
        const st = (await api(s.url, 'GET', `/api/v1/pkg/${id}`)).json.status.state;
        if (st !== 'queued' && !started.has(id)) started.set(id, Date.now());
        if (st === 'good' || st === 'failed') done.add(id);
      }
      if (Date.now() - t0 > 30 * 60_000) throw new Error('bench: builds did not finish in 30 min');
      await new Promise((r) => setTimeout(r, 200));
    }
    const minutes = (Date.now() - t0) / 60_000;
    const waits = [...submitted].map(([id, t]) => (started.get(id)! - t) / 1000);
    return `| ${kind} | ${n} | ${k} | ${(k / minutes).toFixed(2)} | ${pct(waits, 50).toFixed(1)} | ${pct(waits, 99).toFixed(1)} |`;
  } finally {
    for (const p of procs) { try { process.kill(-p.pid!, 'SIGTERM'); } catch { /* gone */ } await p; }
    await s.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

export async function vmBench(redisUrl: string, k: number): Promise<string> {
  const rows = ['| queue | workers | builds | builds/min | wait to start p50 (s) | p99 (s) |', '|---|---|---|---|---|---|'];
  for (const [kind, n] of [['embedded', 1], ['embedded', 2], ['redis', 1], ['redis', 2]] as const) {
    rows.push(await run(redisUrl, kind, n, k));
    console.error(rows[rows.length - 1]);
  }
  return rows.join('\n');
}
