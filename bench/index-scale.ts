// Bench (issue 8.5): the indexes at scale. Generates a store of P packages with S submissions each
// (default 100,000 × 10 = 1,000,000 submissions, each with its submission folder, ~4 million
// files, and in the flat indexes), starts the built server on it
// as its own process and measures: the time the first read takes (the catalog loading), the
// server's resident memory with the index loaded, p50/p99 of queries over HTTP, and the cost of
// adding one submission (an upload of a new version, the 201 latency, median of U) — each
// against the same on a store of 100 packages × S measured in the same run.
// Targets: query p99 ≤ 10 ms, adding ≤ 1.5× the small store's cost, RSS ≤ 300 MB.
// The store is written by a child process and each URL is asked WARM times before it is timed, so
// the figures are the server's steady state, not this process's heap or a first compile; queries
// start once the server's start-up work is done (SETTLE_S after the load: reconcile, and V8's
// memory reducer, which runs some seconds after a load). The same loop against a trivial HTTP
// server (a child process answering "{}") gives this machine's floor for a loopback p99.
// Run: npx tsx bench/index-scale.ts [packages=100000] [perPackage=10] [requests=200] [uploads=20] [--no-folders]
// (builds dist/ first; the 1M-folder store needs ~10 GB of disk and ~10 million inodes in os.tmpdir())
import { execa } from 'execa';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packFixture, upload } from '../test/support/portpkgs.js';
import { freePort, morphux, ServerProcess } from '../test/support/server-process.js';
import { generateStoreApart, pkgName } from './support/generated-store.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const PACKAGES = Number(args[0] ?? 100_000);
const PER = Number(args[1] ?? 10);
const REQUESTS = Number(args[2] ?? 200);
const UPLOADS = Number(args[3] ?? 20);
/** a submission folder for every submission (--no-folders: for the first 100 only, the flat
 *  indexes alone at scale) */
const FOLDERS = !process.argv.includes('--no-folders');
const WARM = 20;
const SETTLE_S = 12;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function rssMiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** p50/p99 of REQUESTS sequential GETs of one URL, after WARM untimed ones. */
async function timeUrl(url: string): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < WARM + REQUESTS; i++) {
    const t = performance.now();
    const r = await fetch(url, { redirect: 'manual' });
    await r.arrayBuffer();
    if (r.status >= 400) throw new Error(`${url}: ${r.status}`);
    if (i >= WARM) ms.push(performance.now() - t);
  }
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

/** The same loop against a server that only answers "{}": what loopback HTTP costs here. */
async function floor(): Promise<{ p50: number; p99: number }> {
  const port = await freePort();
  const child = execa(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{}')).listen(${port}, '127.0.0.1')`], { reject: false });
  try {
    for (let i = 0; i < 100; i++) {
      try { await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer(); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    return await timeUrl(`http://127.0.0.1:${port}/`);
  } finally {
    child.kill();
    await child;
  }
}

interface Scale { packages: number; loadMs: number; rssMiB: number; rssSettledMiB: number; queries: Array<{ what: string; p50: number; p99: number }>; addMs: number; addP90: number; rssAfterMiB: number }

async function measure(packages: number): Promise<Scale> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'bench-index-'));
  try {
    const t0 = performance.now();
    await generateStoreApart(data, { packages, perPackage: PER, folders: FOLDERS ? packages * PER : 100 });
    console.log(`  generated ${packages} packages × ${PER} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // no build worker: the uploads' VM builds would share the two cores with what is measured
    await writeFile(path.join(data, 'morphux.yaml'), 'builder:\n  embedded_worker: false\n');
    const token = (await morphux(['user', 'add', 'alice', '--admin', '--data', data])).trim().split(/\s+/).at(-1)!;
    const server = new ServerProcess(data, await freePort(), { built: true, log: path.join(os.tmpdir(), 'bench-index-server.log') });
    await server.start();
    try {
      const pid = server.pid!;
      const tl = performance.now();
      await (await fetch(`${server.url}/api/v1/ports?q=nothing-matches`)).arrayBuffer();
      const loadMs = performance.now() - tl;
      await new Promise((r) => setTimeout(r, 1000));
      const rss = await rssMiB(pid);
      await new Promise((r) => setTimeout(r, (SETTLE_S - 1) * 1000));
      const rssSettled = await rssMiB(pid);
      const mid = Math.max(1, Math.floor(packages / 2));
      const urls: Array<[string, string]> = [
        ['one package (GET /api/v1/ports/NAME)', `/api/v1/ports/${pkgName(mid)}`],
        ['newest pkgid of a name (GET /port/NAME, 301)', `/port/${pkgName(mid)}`],
        ['one submission (GET /api/v1/pkg/ID)', '/api/v1/pkg/42'],
        ['search by text (?q=…)', `/api/v1/ports?q=number%20${mid}`],
        ['by tag (?tag=t7)', '/api/v1/ports?tag=t7'],
        ['by category, newest first', '/api/v1/ports?category=net&sort=updated'],
        ['all by votes', '/api/v1/ports?sort=votes'],
        ['all by name', '/api/v1/ports'],
      ];
      const queries = [];
      for (const [what, u] of urls) queries.push({ what, ...(await timeUrl(`${server.url}${u}`)) });
      const add: number[] = [];
      for (let i = 0; i < UPLOADS; i++) {
        const name = pkgName(1 + ((i * 7919) % packages));
        const tgz = await packFixture('hello', (p) => { p.name = name; p.version = `9.${i}`; });
        const t = performance.now();
        const r = await upload(server, tgz, token);
        add.push(performance.now() - t);
        if (r.status !== 201) throw new Error(`upload ${name}: ${r.status} ${JSON.stringify(r.json)}`);
      }
      // the new submissions are visible to queries right away
      const seen = await (await fetch(`${server.url}/api/v1/ports/${pkgName(1)}`)).json() as { submissions?: unknown[] };
      if (!JSON.stringify(seen).includes('"9.0"')) throw new Error('an added submission is not in the index');
      const scale = { packages, loadMs, rssMiB: rss, rssSettledMiB: rssSettled, queries, addMs: pct(add, 50), addP90: pct(add, 90), rssAfterMiB: await rssMiB(pid) };
      report(scale); // now: removing millions of files takes minutes
      return scale;
    } finally {
      await server.kill();
    }
  } finally {
    // rm(1): 5-10x faster than fs.rm for a million folders
    await execa('rm', ['-rf', data]).catch(() => rm(data, { recursive: true, force: true, maxRetries: 5 }));
  }
}

function report(s: Scale): void {
  console.log(`\n${s.packages} packages (${s.packages * PER} submissions): first read ${s.loadMs.toFixed(0)} ms, RSS ${s.rssMiB.toFixed(0)} MiB loaded, ${s.rssSettledMiB.toFixed(0)} MiB ${SETTLE_S} s later, ${s.rssAfterMiB.toFixed(0)} MiB after the uploads`);
  for (const q of s.queries) console.log(`  ${q.what.padEnd(48)} p50 ${q.p50.toFixed(2).padStart(7)} ms  p99 ${q.p99.toFixed(2).padStart(7)} ms`);
  console.log(`  add one submission (upload, 201)                 median ${s.addMs.toFixed(1)} ms  p90 ${s.addP90.toFixed(1)} ms`);
}

await execa('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
console.log(`index scale: ${PACKAGES} packages × ${PER} submissions (${FOLDERS ? 'every one with its submission folder' : 'submission folders for the first 100'}), reference 100 × ${PER}; ${REQUESTS} requests a query, ${UPLOADS} uploads`);
const base = await floor();
const small = await measure(100);
const big = await measure(PACKAGES);
console.log(`\nloopback floor (a server answering "{}", same loop): p50 ${base.p50.toFixed(2)} ms  p99 ${base.p99.toFixed(2)} ms`);
const worstP99 = Math.max(...big.queries.map((q) => q.p99));
console.log(`\nworst query p99 at ${PACKAGES}: ${worstP99.toFixed(2)} ms (target ≤ 10)`);
console.log(`add cost ${PACKAGES} / 100 packages: ${(big.addMs / small.addMs).toFixed(2)}× (target ≤ 1.5)`);
console.log(`RSS with the index loaded: ${big.rssMiB.toFixed(0)} MiB (target ≤ 300)`);
