// Bench: page and query latency at 10,000 packages (issue 5: a page under 50 ms). Generates a
// store with N packages (one submission each, index files and submission folders written
// directly and committed once), starts a real server in-process, then times sequential requests
// per URL and prints p50/p99, with GET /store/README.md (a static read) as the reference.
// Run: npx tsx bench/web-pages.ts [packages=10000] [requests=200]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.js';
import { silentLogger } from '../src/lib/logger.js';
import { startServer } from '../src/server/start-server.js';
import { openContext } from '../src/main/open-instance.js';
import { generateStore, pkgName } from './support/generated-store.js';

const N = Number(process.argv[2] ?? 10_000);
const REQUESTS = Number(process.argv[3] ?? 200);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function time(url: string): Promise<{ p50: number; p99: number; status: number }> {
  const ms: number[] = [];
  let status = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    ms.push(performance.now() - t);
    status = r.status;
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 50), p99: pct(ms, 99), status };
}

const data = await mkdtemp(path.join(os.tmpdir(), 'bench-web-'));
try {
  const t0 = performance.now();
  await generateStore(data, { packages: N });
  console.log(`generated ${N} packages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const config = loadConfig({ data, host: '127.0.0.1', port: 0 });
  const ctx = await openContext(config, silentLogger);
  const server = await startServer(ctx, { host: '127.0.0.1', port: 0 });
  const base = server.url;
  await fetch(`${base}/packages`); // warm-up: the first read loads the catalog
  const ref = await time(`${base}/store/README.md`);
  console.log(`reference GET /store/README.md: p50 ${ref.p50.toFixed(2)} ms, p99 ${ref.p99.toFixed(2)} ms`);
  console.log('url | status | p50 ms | p99 ms | p50 / reference');
  for (const u of ['/', '/packages', '/packages?page=100&sort=votes', '/packages?q=number%20777', '/category/net', '/tag/t7',
    `/packages/${pkgName(N - 1)}`, '/submissions/42', '/builds', '/api/v1/ports?q=tool&sort=updated', `/api/v1/ports/${pkgName(42)}`]) {
    const r = await time(`${base}${u}`);
    if (r.status !== 200) console.log(await (await fetch(`${base}${u}`)).text().then((t) => t.slice(0, 300)));
    console.log(`${u} | ${r.status} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p50 / ref.p50).toFixed(1)}×`);
  }
  await server.close();
} finally {
  await rm(data, { recursive: true, force: true });
}
