// Bench (issue 8.8): metadata writes per second, committed to the store and durable. A real
// `morphux serve` process (no build worker) with a few submissions; C clients post comments and
// user reports (half each) for D seconds, each waiting for its 201 before the next. A 201 is sent
// only after the store commit that holds the change (objects, ref and index fsynced). Measured
// twice in the same run: with group commit (store.group_commit_max 256, the default) and with a
// commit per change (group_commit_max 1) as the reference. Afterwards every acknowledged change is
// looked up in the store's HEAD (none may be missing) and `morphux store fsck` must be clean.
// Run: npx tsx bench/meta-writes.ts [clients=64] [seconds=10] [packages=8]
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storePaths } from '../src/store/layout/store-paths.js';
import { packFixture, upload } from '../test/support/portpkgs.js';
import { freePort, morphux, ServerProcess } from '../test/support/server-process.js';

const CLIENTS = Number(process.argv[2] ?? 64);
const SECONDS = Number(process.argv[3] ?? 10);
const PACKAGES = Number(process.argv[4] ?? 8);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

interface Run { perSecond: number; acked: number; p50: number; p99: number; commits: number; missing: number; fsck: string }

async function run(groupMax: number): Promise<Run> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'bench-meta-'));
  await writeFile(path.join(data, 'morphux.yaml'), `builder:\n  embedded_worker: false\nthrottle:\n  enabled: false\nstore:\n  group_commit_max: ${groupMax}\nlog:\n  level: warn\n`);
  const token = (await morphux(['user', 'add', 'alice', '--data', data])).trim().split(/\s+/).at(-1)!;
  const server = new ServerProcess(data, await freePort());
  await server.start();
  try {
    const pkgids: number[] = [];
    for (let i = 0; i < PACKAGES; i++) {
      const r = await upload(server, await packFixture('hello', (p) => { p.name = `bench${i}`; }), token);
      if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.json)}`);
      pkgids.push(r.json.pkgid);
    }
    const head0 = Number((await execa('git', ['rev-list', '--count', 'HEAD'], { cwd: path.join(data, 'store') })).stdout);
    const acked: string[] = [];
    const ms: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    const client = async (c: number) => {
      for (let k = 0; performance.now() < until; k++) {
        const pkgid = pkgids[(c + k) % pkgids.length]!;
        const report = (c + k) % 2 === 1;
        const t = performance.now();
        const res = await fetch(`${server.url}/api/v1/pkg/${pkgid}/${report ? 'reports' : 'comments'}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(report ? { status: k % 3 ? 'ok' : 'failed', arch: 'x86_64', message: `client ${c} #${k}` } : { text: `client ${c} says ${k}` }),
        });
        const doc = await res.json() as { n: number };
        if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(doc)}`);
        ms.push(performance.now() - t);
        acked.push(report ? storePaths.report(pkgid, doc.n) : `${storePaths.comments(pkgid)}/${doc.n}.json`);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const elapsed = (performance.now() - t0) / 1000;
    const store = path.join(data, 'store');
    const inHead = new Set((await execa('git', ['ls-tree', '-r', '--name-only', 'HEAD', storePaths.portpkgsRoot], { cwd: store, maxBuffer: 1 << 30 })).stdout.split('\n'));
    const commits = Number((await execa('git', ['rev-list', '--count', 'HEAD'], { cwd: store })).stdout) - head0;
    await server.kill(); // SIGKILL: what was acknowledged must be in the commit already
    const fsck = (await execa(process.execPath, ['--import', 'tsx', 'src/cli/morphux.ts', 'store', 'fsck', '--data', data], { reject: false })).exitCode === 0 ? 'clean' : 'NOT CLEAN';
    return { perSecond: acked.length / elapsed, acked: acked.length, p50: pct(ms, 50), p99: pct(ms, 99), commits, missing: acked.filter((p) => !inHead.has(p)).length, fsck };
  } finally {
    await server.kill();
    await rm(data, { recursive: true, force: true });
  }
}

const fmt = (r: Run) => `${r.perSecond.toFixed(0).padStart(5)} writes/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  ${r.acked} acknowledged in ${r.commits} commits  missing ${r.missing}  fsck ${r.fsck}`;

console.log(`metadata writes: ${CLIENTS} clients, ${SECONDS} s, ${PACKAGES} submissions, comments and user reports`);
const reference = await run(1);
console.log(`commit per change (reference): ${fmt(reference)}`);
const grouped = await run(256);
console.log(`group commit (default):        ${fmt(grouped)}`);
console.log(`ratio group/reference: ${(grouped.perSecond / reference.perSecond).toFixed(2)}x   target >= 500 writes/s: ${grouped.perSecond >= 500 ? 'met' : 'NOT met'}`);
if (reference.missing + grouped.missing > 0 || reference.fsck !== 'clean' || grouped.fsck !== 'clean') process.exitCode = 1;
