// Bench: the install plan (GET /api/v1/install) at scale. Generates a store of N packages (default
// 100,000, S submissions each) whose good submissions are installable (bench/support/generated-store.ts,
// `installable`: an x86_64 build in each index entry, runtime dependencies within blocks of ten
// packages, so a closure has up to ~9 packages), starts the server on it as its own process, and
// measures p50/p99 of sequential plans against a reference measured in the same run on the same
// server and the same names: GET /api/v1/ports/<name> (one package's index, from the same catalog).
// Two mixes: "hot", a few roots asked again and again (their indexes stay in the catalog's LRU), and
// "spread", a different root for every request across the whole store (most indexes read from the
// committed tree). Each URL set is asked WARM times untimed first; plan and reference alternate, so
// both see the same machine.
// The client is node:http with one kept-alive connection (as mpm's is); --client fetch measures
// through fetch (undici), whose own pauses add 2-4 ms to both p99s on this 2-core machine.
// Run: npx tsx bench/install-plan.ts [--packages 100000] [--per 1] [--requests 1000] [--client http|fetch] [--source] [--reuse DIR]
//   --packages 2000 runs in about a minute. --source runs the server from src/ through tsx instead
//   of building dist/ first (`npm run build`, as npm start runs it).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, ServerProcess } from '../test/support/server-process.js';
import { generateStoreApart, installDeps, pkgName } from './support/generated-store.js';
import { argNumber, argString, median, pct } from './support/stats.js';

const PACKAGES = argNumber('packages', 100_000);
const PER = argNumber('per', 1);
const REQUESTS = argNumber('requests', 1000);
const SOURCE = process.argv.includes('--source');
const REUSE_ARG = argString('reuse');
const REUSE = REUSE_ARG === undefined ? undefined : path.resolve(REUSE_ARG);
const CLIENT = argString('client', 'http');
if (CLIENT !== 'http' && CLIENT !== 'fetch') throw new Error('--client is http or fetch');
const WARM = 20;
const HOT_ROOTS = 20;
/** after the catalog's load: the server's start-up work and V8's memory reducer (index-scale.ts) */
const SETTLE_S = PACKAGES >= 20_000 ? 12 : 3;

/** Package i has a good submission (generated-store: pkgids that are multiples of 10 failed). */
const hasGood = (i: number) => Array.from({ length: PER }, (_, k) => (i - 1) * PER + k + 1).some((id) => id % 10 !== 0);

/** The closure of package i as the generated store makes it (for the report). */
function closureSize(i: number): number {
  const seen = new Set<number>();
  const visit = (j: number) => {
    if (seen.has(j)) return;
    seen.add(j);
    for (const name of Object.keys(installDeps(j, PACKAGES, PER))) visit(Number(name.slice(4)));
  };
  visit(i);
  return seen.size;
}

/** Roots: block starts (the largest closures) and others, all with a good submission, spread over the store. */
function roots(count: number, salt: number): number[] {
  const out: number[] = [];
  for (let k = 0; out.length < count && k < count * 4; k++) {
    const i = 1 + ((k * 7919 + salt) % PACKAGES);
    const root = k % 2 === 0 ? i - ((i - 1) % 10) : i; // every other one a block start
    if (hasGood(root)) out.push(root);
  }
  return out;
}

interface Timing { p50: number; p99: number }

/** One kept-alive connection, as a client asking for plan after plan would hold (node:http, as mpm's
 * client is; fetch's undici added its own pauses to both tails). */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<void> {
  return CLIENT === 'fetch' ? getByFetch(url) : getByHttp(url);
}

async function getByFetch(url: string): Promise<void> {
  const r = await fetch(url, { redirect: 'manual' });
  const body = await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
}

function getByHttp(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** REQUESTS rounds, each one plan and one reference request on the same root, alternating which goes first. */
async function measure(base: string, rootsOf: (n: number) => number[]): Promise<{ plan: Timing; ref: Timing; closure: number }> {
  const rs = rootsOf(WARM + REQUESTS);
  const planUrl = (i: number) => `${base}/api/v1/install?pkg=${pkgName(i)}&arch=x86_64`;
  const refUrl = (i: number) => `${base}/api/v1/ports/${pkgName(i)}`;
  const plan: number[] = [];
  const ref: number[] = [];
  for (let n = 0; n < WARM + REQUESTS; n++) {
    const i = rs[n % rs.length]!;
    const pair: Array<[string, number[]]> = [[planUrl(i), plan], [refUrl(i), ref]];
    if (n % 2) pair.reverse();
    for (const [url, into] of pair) {
      const t = performance.now();
      await get(url);
      if (n >= WARM) into.push(performance.now() - t);
    }
  }
  const timing = (xs: number[]) => ({ p50: pct(xs, 50), p99: pct(xs, 99) });
  return { plan: timing(plan), ref: timing(ref), closure: median(rs.map(closureSize)) };
}

async function main(): Promise<void> {
  if (!SOURCE) await execa('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  console.log(`install plan: ${PACKAGES} packages × ${PER} (installable), ${REQUESTS} plans and ${REQUESTS} references a mix; client ${CLIENT}; server from ${SOURCE ? 'src/ (tsx)' : 'dist/'}`);
  const data = REUSE ?? (await mkdtemp(path.join(os.tmpdir(), 'bench-plan-')));
  try {
    const t0 = performance.now();
    if (REUSE && existsSync(path.join(data, 'store', '.git'))) {
      console.log(`  reusing the store in ${data}`);
    } else {
      await generateStoreApart(data, { packages: PACKAGES, perPackage: PER, folders: 100, installable: true });
      console.log(`  generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    await writeFile(path.join(data, 'morphux.yaml'), 'builder:\n  embedded_worker: false\nthrottle:\n  enabled: false\n');
    const server = new ServerProcess(data, await freePort(), { built: !SOURCE, log: path.join(os.tmpdir(), 'bench-plan-server.log') });
    await server.start();
    try {
      const tl = performance.now();
      await get(`${server.url}/api/v1/ports?q=nothing-matches`);
      console.log(`  catalog loaded in ${(performance.now() - tl).toFixed(0)} ms; settling ${SETTLE_S} s`);
      await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
      // a sanity check of what is measured: a closure, dependencies first
      const sample = await (await fetch(`${server.url}/api/v1/install?pkg=${pkgName(roots(1, 0)[0]!)}`)).json() as { packages?: Array<{ name: string }> };
      if (!sample.packages?.length) throw new Error(`no plan: ${JSON.stringify(sample).slice(0, 300)}`);
      const hot = roots(HOT_ROOTS, 17);
      const mixes: Array<[string, (n: number) => number[]]> = [
        [`hot (${hot.length} roots)`, () => hot],
        ['spread (a new root each time)', (n) => roots(n, Date.now() % PACKAGES)],
      ];
      const rows = [];
      for (const [what, rootsOf] of mixes) rows.push({ what, ...(await measure(server.url, rootsOf)) });
      console.log(`\n${PACKAGES} packages (${PACKAGES * PER} submissions)`);
      for (const r of rows) {
        console.log(`  ${r.what}: closure median ${r.closure} packages`);
        console.log(`    plan      GET /api/v1/install?pkg=NAME  p50 ${r.plan.p50.toFixed(2).padStart(7)} ms  p99 ${r.plan.p99.toFixed(2).padStart(7)} ms`);
        console.log(`    reference GET /api/v1/ports/NAME        p50 ${r.ref.p50.toFixed(2).padStart(7)} ms  p99 ${r.ref.p99.toFixed(2).padStart(7)} ms`);
        console.log(`    plan / reference                        p50 ${(r.plan.p50 / r.ref.p50).toFixed(2).padStart(6)}×   p99 ${(r.plan.p99 / r.ref.p99).toFixed(2).padStart(6)}×`);
      }
    } finally {
      await server.kill();
    }
  } finally {
    if (!REUSE) await execa('rm', ['-rf', data]).catch(() => rm(data, { recursive: true, force: true, maxRetries: 5 }));
  }
}

await main();
