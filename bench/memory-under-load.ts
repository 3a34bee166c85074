// Memory under load (issue 8, item 7): the built server in a process of its own; its resident
// memory idle, then R rounds of N concurrent operations, half `git clone --bare` of a package repo
// of random data and half GET /pkg/<pkgid> of a large portpkg (whole body read). VmRSS of the
// server is sampled every 50 ms from /proc/<pid>/status, VmHWM is its peak; git-http-backend and
// the git processes below it are separate processes, counted and summed on their own (every
// 250 ms). After each round and a short settle (no forced GC), the server's RSS against idle.
// Targets: peak ≤ 500 MB; after every round within 20 % of idle (no growth over the rounds); also
// printed: rounds 2…R against round 1 (growth once the first round's memory is reserved).
// Run: npm run build && npx tsx bench/memory-under-load.ts [--rounds 10] [--ops 200] [--repo-mb 10]
//      [--pkg-mb 4] [--settle 10]
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packDir } from '../src/mpm/pack-dir.js';
import { editManifest, FIXTURES } from '../test/support/git-client.js';
import { markBuilt, upload } from '../test/support/portpkgs.js';
import { descendants, procStatusKb } from '../test/support/process-tree.js';
import { benchServer } from './support/bench-server.js';
import { pushBigRepo } from './support/big-repo.js';
import { describeBreakdown, memoryBreakdown } from './support/memory-breakdown.js';
import { argNumber, argString } from './support/stats.js';

const ROUNDS = argNumber('rounds', 10);
const OPS = argNumber('ops', 200);
const REPO_MB = argNumber('repo-mb', 10);
const PKG_MB = argNumber('pkg-mb', 4);
const SETTLE_S = argNumber('settle', 10);
// --only clone|download: every operation of a round of one kind (to see which one memory follows)
const ONLY = argString('only');
if (ONLY !== undefined && ONLY !== 'clone' && ONLY !== 'download') throw new Error('--only clone or --only download');
const MiB = 1024 * 1024;
const mib = (kb: number) => (kb / 1024).toFixed(0);
// --diag: the server writes a diagnostic report on SIGUSR2, read for V8's heap after each settle
const REPORTS = process.argv.includes('--diag') ? await mkdtemp(path.join(os.tmpdir(), 'bench-mem-reports-')) : undefined;
if (REPORTS) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --report-on-signal --report-directory=${REPORTS}`.trim();

const server = await benchServer(async (s) => {
  const repo = await pushBigRepo(s, 'memrepo', REPO_MB * MiB);
  await execa('git', ['repack', '-a', '-d', '-q'], { cwd: repo.bare });
  // a portpkg with a large random file in it, built good (no VM)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-pkg-'));
  try {
    await cp(path.join(FIXTURES, 'hello'), dir, { recursive: true });
    await editManifest(dir, (p) => { p.name = 'bigdl'; p.version = '1.0'; });
    await writeFile(path.join(dir, 'payload.bin'), randomBytes(PKG_MB * MiB));
    const r = await upload(s, await packDir(dir), s.adminToken);
    if (r.status !== 201) throw new Error(`upload: ${r.status} ${JSON.stringify(r.json)}`);
    await markBuilt(s, r.json.pkgid, 'good');
    return { pkgid: r.json.pkgid as number };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
const work = await mkdtemp(path.join(os.tmpdir(), 'bench-mem-'));
const pid = server.pid;

// samplers: the server's VmRSS every 50 ms, its git children every 250 ms
let roundPeakKb = 0;
let kids = { count: 0, rssKb: 0 };
let sampling = true;
const rssLoop = (async () => {
  while (sampling) {
    const kb = await procStatusKb(pid, 'VmRSS');
    if (kb !== null) roundPeakKb = Math.max(roundPeakKb, kb);
    await new Promise((r) => setTimeout(r, 50));
  }
})();
const kidsLoop = (async () => {
  while (sampling) {
    const pids = await descendants(pid);
    let rssKb = 0;
    for (const p of pids) rssKb += (await procStatusKb(p, 'VmRSS')) ?? 0;
    kids = { count: Math.max(kids.count, pids.length), rssKb: Math.max(kids.rssKb, rssKb) };
    await new Promise((r) => setTimeout(r, 250));
  }
})();

async function download(): Promise<void> {
  const url = `${server.url}/pkg/${server.made.pkgid}`;
  // a kept-alive connection the server closed as it was reused (idle past the server's 5 s while
  // this process was too busy to notice): a GET is safe to send again, as browsers do
  const res = await fetch(url).catch((e: { cause?: { code?: string } }) => {
    if (e.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return fetch(url);
  });
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) n += c.length;
  if (res.status !== 200 || n !== Number(res.headers.get('content-length'))) throw new Error(`download: ${res.status}, ${n} bytes`);
}

async function clone(i: number): Promise<void> {
  const dst = path.join(work, `c${i}`);
  const r = await execa('git', ['clone', '--bare', '-q', `${server.url}/memrepo.git`, dst], { reject: false, env: { GIT_TERMINAL_PROMPT: '0' } });
  if (r.exitCode !== 0) throw new Error(`clone: ${r.stderr}`);
  await rm(dst, { recursive: true, force: true });
}

try {
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const coldKb = (await procStatusKb(pid, 'VmRSS'))!;
  await Promise.all([clone(-1), download()]); // warm-up: code paths compiled, buffers allocated once
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  const idleKb = (await procStatusKb(pid, 'VmRSS'))!;
  const breakdowns = [`idle: ${describeBreakdown(await memoryBreakdown(pid, REPORTS))}`];
  console.log(`server pid ${pid}: idle RSS ${mib(coldKb)} MiB after start, ${mib(idleKb)} MiB after one clone and one download (idle, below)`);
  console.log(`${ROUNDS} rounds of ${OPS} concurrent operations: ${Math.ceil(OPS / 2)} git clone --bare of a ${REPO_MB} MB repo, ${Math.floor(OPS / 2)} GET /pkg of a ${PKG_MB} MB portpkg; settle ${SETTLE_S} s`);
  const rows = ['| round | seconds | server peak RSS MiB | RSS after settle MiB | after / idle | git processes (peak) | their RSS sum MiB (peak) |', '|---:|---:|---:|---:|---:|---:|---:|'];
  let worst = 0;
  let firstAfterKb = 0;
  let worstSinceFirst = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    roundPeakKb = 0;
    kids = { count: 0, rssKb: 0 };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: OPS }, (_, i) => (ONLY === 'clone' || (ONLY !== 'download' && i % 2 === 0) ? clone(i) : download())));
    const secs = (performance.now() - t0) / 1000;
    const busy = { peak: roundPeakKb, kids };
    const decay: string[] = []; // how RSS comes down while settling, every 5 s
    for (let s = 0; s < SETTLE_S; s += 5) {
      await new Promise((r) => setTimeout(r, Math.min(5, SETTLE_S - s) * 1000));
      decay.push(mib((await procStatusKb(pid, 'VmRSS'))!));
    }
    const afterKb = (await procStatusKb(pid, 'VmRSS'))!;
    breakdowns.push(`after round ${round}: ${describeBreakdown(await memoryBreakdown(pid, REPORTS))}; while settling, every 5 s: ${decay.join(' ')} MiB`);
    console.error(breakdowns[breakdowns.length - 1]);
    worst = Math.max(worst, afterKb / idleKb);
    if (round === 1) firstAfterKb = afterKb;
    else worstSinceFirst = Math.max(worstSinceFirst, afterKb / firstAfterKb);
    rows.push(`| ${round} | ${secs.toFixed(1)} | ${mib(busy.peak)} | ${mib(afterKb)} | ${(afterKb / idleKb).toFixed(2)} | ${busy.kids.count} | ${mib(busy.kids.rssKb)} |`);
    console.error(rows[rows.length - 1]);
  }
  const hwm = (await procStatusKb(pid, 'VmHWM'))!;
  if (REPORTS) {
    // how much of what is left is memory glibc holds free: ask it to give that back (gdb, if present)
    const g = await execa('gdb', ['-p', String(pid), '-batch', '-ex', 'call (int)malloc_trim(0)'], { reject: false });
    if (g.exitCode === 0) breakdowns.push(`after malloc_trim(0) in the server (gdb): ${describeBreakdown(await memoryBreakdown(pid, REPORTS))}`);
  }
  console.log(rows.join('\n'));
  console.log(breakdowns.join('\n'));
  console.log(`server VmHWM (peak RSS over the run): ${mib(hwm)} MiB (target ≤ 500 MB); worst RSS after a round: ${worst.toFixed(2)}× idle (target ≤ 1.20×)`);
  // growth over the rounds: a leak shows as RSS climbing round after round, not as the first round's
  // heap and allocator arenas staying reserved
  console.log(`worst RSS after rounds 2–${ROUNDS} against after round 1: ${worstSinceFirst.toFixed(2)}× (a leak would climb)`);
} finally {
  sampling = false;
  await Promise.all([rssLoop, kidsLoop]);
  await rm(work, { recursive: true, force: true });
  if (REPORTS) await rm(REPORTS, { recursive: true, force: true });
  await server.close();
}
