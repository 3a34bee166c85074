// Bench: page and query latency at 10,000 packages (issue 5: a page under 50 ms). Generates a
// store with N packages (one submission each, index files and submission folders written
// directly and committed once), starts a real server in-process, then times sequential requests
// per URL and prints p50/p99, with GET /store/README.md (a static read) as the reference.
// Run: npx tsx bench/web-pages.ts [packages=10000] [requests=200]
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.js';
import { silentLogger } from '../src/config/logger.js';
import { startServer } from '../src/server/start-server.js';
import { openContext } from '../src/service/app-context.js';
import { storePaths } from '../src/store/store-paths.js';

const N = Number(process.argv[2] ?? 10_000);
const REQUESTS = Number(process.argv[3] ?? 200);
const CATEGORIES = ['utils', 'libs', 'net', 'devel', 'games'];

async function generate(data: string): Promise<void> {
  const store = path.join(data, 'store');
  await mkdir(store, { recursive: true });
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: store });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (let i = 1; i <= N; i++) {
    const name = `pkg${String(i).padStart(6, '0')}`;
    const version = `1.${i % 17}`;
    const entry = { pkgid: i, version, state: i % 10 === 0 ? 'failed' : 'good', reason: i % 10 === 0 ? 'build' : null, submitter: 'alice', submitted_at: now, updated_at: now, commit: null, stable: i % 3 === 0, tags: [], votes: i % 7, failed_reports: 0 };
    const index = { name, description: `package number ${i}, a ${CATEGORIES[i % 5]} tool`, category: CATEGORIES[i % 5], tags: [`t${i % 50}`], submissions: [entry] };
    const ixFile = path.join(store, storePaths.portIndex(name));
    await mkdir(path.dirname(ixFile), { recursive: true });
    await writeFile(ixFile, JSON.stringify(index, null, 2) + '\n');
    if (i <= 100) {
      const meta = path.join(store, storePaths.meta(i));
      await mkdir(meta, { recursive: true });
      await writeFile(path.join(meta, 'submission_info.json'), JSON.stringify({ pkgid: i, name, version, submitter: 'alice', submitted_at: now, source: { type: 'upload', filename: null }, sha256: '0'.repeat(64), size: 1, description: index.description, category: index.category, tags: index.tags, dependencies: {}, build_dependencies: {} }));
      await writeFile(path.join(meta, 'status.json'), JSON.stringify({ state: entry.state, reason: entry.reason, message: null, updated_at: now, attempts: 1, build: null }));
    }
  }
  await writeFile(path.join(store, 'README.md'), 'bench store\n');
  await execa('git', ['add', '-A'], { cwd: store });
  await execa('git', ['-c', 'user.name=bench', '-c', 'user.email=b@b', 'commit', '-qm', 'bench data'], { cwd: store });
}

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
  await generate(data);
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
    `/packages/pkg${String(N - 1).padStart(6, '0')}`, '/submissions/42', '/builds', '/api/v1/ports?q=tool&sort=updated', '/api/v1/ports/pkg000042']) {
    const r = await time(`${base}${u}`);
    if (r.status !== 200) console.log(await (await fetch(`${base}${u}`)).text().then((t) => t.slice(0, 300)));
    console.log(`${u} | ${r.status} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p50 / ref.p50).toFixed(1)}×`);
  }
  await server.close();
} finally {
  await rm(data, { recursive: true, force: true });
}
