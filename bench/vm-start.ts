// Bench (issue "builds a distribution can prove", item 1): build VMs started from a saved state
// against cold boots, in the same run.
//
// Part 1, the VM alone (QemuRunner, the hello fixture): RUNS builds of each kind, alternated
// (cold, restored, cold, restored …), first back to back, then each after IDLE seconds of nothing
// (host memory goes cold: ../shared/notes/vm-snapshot.md). Reported per kind: median and min–max
// of boot_seconds (QEMU start → the first build command; for a restore, the host's time to the
// hand-in plus the guest's from there), restore_seconds (QEMU start → guest running and handed its
// job) and total_seconds (QEMU start → exit). The saved state is made before the timed runs.
// Part 2, end to end: the built server (`npm run build`; dist/cli/morphux.js serve in its own process,
// as `npm start` runs it, so the push's hooks run the built hook client) with its embedded worker
// (builder.snapshot on, then off, in two data dirs; its log in $TMPDIR/bench-vm-start-<kind>.log,
// with each hook's answer time), `git push` of hello to version-X.Y, then GET /api/v1/pkg/N every 50 ms until it is
// good: push → good, PUSHES times each, alternated; and where the time beyond the VM goes (push →
// queued line, queued → VM start as far as the status tells, VM total, VM end → good).
// Run: npm run build && npx tsx bench/vm-start.ts [--runs 5] [--idle 10] [--pushes 4] [--only vm|push]
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureImage } from '../src/builder/vm/base-image.js';
import { QemuRunner } from '../src/builder/vm/qemu-runner.js';
import type { BuildOutcome } from '../src/builder/vm/vm-types.js';
import { loadConfig } from '../src/config/load-config.js';
import { parseManifest } from '../src/domain/manifest.js';
import { silentLogger } from '../src/lib/logger.js';
import { fixtureRepo, git, pushUrl, queuedLine } from '../test/support/git-client.js';
import { api, newUser } from '../test/support/test-server.js';
import { benchServer } from './support/bench-server.js';
import { argNumber, argString, median } from './support/stats.js';

const RUNS = argNumber('runs', 5);
const IDLE = argNumber('idle', 10);
const PUSHES = argNumber('pushes', 4);
const config = loadConfig();
const FIXTURE = path.resolve('test/fixtures/hello');
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const load = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
const f2 = (n: number) => n.toFixed(2);
const spread = (xs: number[]) => `${f2(median(xs))} (${f2(Math.min(...xs))}–${f2(Math.max(...xs))})`;

async function buildOnce(runner: QemuRunner): Promise<BuildOutcome> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-vm-start-'));
  try {
    const o = await runner.run({
      pkgid: 1, arch: 'x86_64', sourceDir: FIXTURE, workDir, dependencies: [],
      manifest: parseManifest(await readFile(path.join(FIXTURE, 'package.json'))),
      timeoutSeconds: 300, memoryMib: config.builder.memory_mib, cpus: config.builder.cpus,
    });
    if (o.state !== 'good') throw new Error(`hello: ${o.state}: ${o.message}`);
    return o;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function vmPart(): Promise<void> {
  await ensureImage({ imageDir: config.imageDir, arch: 'x86_64', suite: config.builder.suite, log: silentLogger });
  const runners = {
    cold: new QemuRunner({ imageDir: config.imageDir, log: silentLogger, snapshot: false }),
    restored: new QemuRunner({ imageDir: config.imageDir, log: silentLogger, snapshot: true }),
  };
  await buildOnce(runners.restored); // makes the saved state (untimed)
  await buildOnce(runners.cold);
  console.log(`\nPart 1: hello in one VM, ${RUNS} runs of each kind, alternated`);
  console.log('| when | kind | boot s, median (min–max) | restore s | VM total s | load |');
  console.log('|---|---|---|---|---|---|');
  for (const idle of [0, IDLE]) {
    const rows: Record<string, { boot: number[]; restore: number[]; total: number[]; load: string[] }> = {
      cold: { boot: [], restore: [], total: [], load: [] }, restored: { boot: [], restore: [], total: [], load: [] },
    };
    for (let i = 0; i < RUNS; i++) {
      const order = (i % 2 ? ['restored', 'cold'] : ['cold', 'restored']) as Array<keyof typeof runners>;
      for (const kind of order) {
        if (idle) await sleep(idle);
        const o = await buildOnce(runners[kind]);
        rows[kind]!.boot.push(o.phases.boot_seconds!);
        if (o.phases.restore_seconds !== undefined) rows[kind]!.restore.push(o.phases.restore_seconds);
        rows[kind]!.total.push(o.phases.total_seconds!);
        rows[kind]!.load.push(await load());
      }
    }
    for (const [kind, r] of Object.entries(rows)) {
      console.log(`| ${idle ? `after ${idle} s idle` : 'back to back'} | ${kind} | ${spread(r.boot)} | ${r.restore.length ? spread(r.restore) : '–'} | ${spread(r.total)} | ${[...new Set(r.load)].join(', ')} |`);
    }
  }
}

async function pushPart(): Promise<void> {
  console.log(`\nPart 2: push → good of hello through a real server and its embedded worker, ${PUSHES} pushes each, alternated`);
  const servers = [];
  for (const snapshot of [true, false]) {
    const kind = snapshot ? 'restored' : 'cold';
    const log = path.join(os.tmpdir(), `bench-vm-start-${kind}.log`);
    // the built server in its own process, as `npm start` runs it (its hooks run the built hook client)
    const s = await benchServer(async (prep) => {
      await writeFile(path.join(prep.data, 'morphux.yaml'), `builder:\n  snapshot: ${snapshot}\n`);
      const token = await newUser(prep, 'alice');
      const made = await api(prep.url, 'POST', '/api/v1/repos', { name: 'hello' }, token);
      if (made.status !== 201) throw new Error(`create hello: ${made.status}`);
      return token;
    }, { log });
    await writeFile(log, ''); // the timed pushes' lines only
    servers.push({ kind, s, log, token: s.made, times: [] as number[], phases: [] as Array<Record<string, number>>, overhead: [] as number[], pushS: [] as number[], pushes: [] as PushTimes[] });
  }
  try {
    for (let i = 0; i < PUSHES + 1; i++) {
      for (const sv of i % 2 ? [...servers].reverse() : servers) {
        const version = `1.${i}`;
        const wc = await fixtureRepo('hello', (p) => { p.version = version; });
        try {
          const t0 = Date.now();
          const r = await git(wc, 'push', pushUrl(sv.s.url, 'hello', 'alice', sv.token), `HEAD:refs/heads/version-${version}`);
          const tPushed = Date.now();
          const q = queuedLine(r.out);
          if (r.code !== 0 || !q) throw new Error(`push: ${r.out}`);
          let view: any;
          for (;;) {
            view = (await api(sv.s.url, 'GET', `/api/v1/pkg/${q.pkgid}`)).json;
            if (view.status.state === 'good' || view.status.state === 'failed') break;
            await sleep(0.05);
          }
          const t = (Date.now() - t0) / 1000;
          if (view.status.state !== 'good') throw new Error(`hello ${version}: ${JSON.stringify(view.status)}`);
          if (i === 0) continue; // warm-up (the first build of a server)
          const ph = view.status.build?.phases ?? {};
          sv.times.push(t);
          sv.pushS.push((tPushed - t0) / 1000);
          sv.phases.push(ph);
          sv.overhead.push(t - (ph.total_seconds ?? 0));
          sv.pushes.push({ pkgid: q.pkgid, t0, tPushed, tGood: Date.now() });
        } finally {
          await rm(wc, { recursive: true, force: true });
        }
      }
    }
    console.log('| kind | push → good s, median (min–max) | git push s | VM total s | beyond the VM s | boot s |');
    console.log('|---|---|---|---|---|---|');
    for (const sv of servers) {
      console.log(`| ${sv.kind} | ${spread(sv.times)} | ${spread(sv.pushS)} | ${spread(sv.phases.map((p) => p.total_seconds ?? NaN))} | ${spread(sv.overhead)} | ${spread(sv.phases.map((p) => p.boot_seconds ?? NaN))} |`);
    }
    console.log('\nWhere the time beyond the VM goes (medians, s; from the server\'s log: its hook answers, the worker\'s "build started" and "build finished" lines):');
    console.log('| kind | git push | hooks answered (server) | pushed → build started | claim (status commit) | VM total | record (commit) | build finished → seen good |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const sv of servers) {
      const b = breakdown(await readFile(sv.log, 'utf8'), sv.pushes);
      console.log(`| ${sv.kind} | ${f2(median(sv.pushS))} | ${f2(median(b.hooks))} | ${f2(median(b.toStart))} | ${f2(median(b.claim))} | ${f2(median(b.vm))} | ${f2(median(b.record))} | ${f2(median(b.toSeen))} |`);
    }
  } finally {
    for (const sv of servers) await sv.s.close();
  }
}

interface PushTimes { pkgid: number; t0: number; tPushed: number; tGood: number }

/** Splits each push's time by the server's log lines (pino JSON, ISO times): the hooks' answers
 * (sum of their server-side ms within the push), the push's end → the worker's "build started", the
 * claim's status commit, the VM, the record commit, and "build finished" → the poll seeing good. */
function breakdown(logText: string, pushes: PushTimes[]) {
  const lines = logText.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  const out = { hooks: [] as number[], toStart: [] as number[], claim: [] as number[], vm: [] as number[], record: [] as number[], toSeen: [] as number[] };
  for (const p of pushes) {
    const at = (l: Record<string, any>) => Date.parse(l.time);
    const hooks = lines.filter((l) => l.msg === 'hook answered' && at(l) >= p.t0 && at(l) <= p.tPushed);
    const started = lines.find((l) => l.msg === 'build started' && l.pkgid === p.pkgid);
    const finished = lines.find((l) => l.msg === 'build finished' && l.pkgid === p.pkgid);
    if (!started || !finished) throw new Error(`no build lines for pkgid ${p.pkgid} in the server log`);
    out.hooks.push(hooks.reduce((a, l) => a + l.ms, 0) / 1000);
    out.toStart.push((at(started) - p.tPushed) / 1000);
    out.claim.push(finished.status_commit_seconds);
    out.vm.push(finished.phases?.total_seconds ?? NaN);
    out.record.push(finished.record_commit_seconds);
    out.toSeen.push((p.tGood - at(finished)) / 1000);
  }
  return out;
}

console.log(`vm-start: ${new Date().toISOString()}, load ${await load()}, ${os.cpus().length} CPUs, QEMU ${(await execa('qemu-system-x86_64', ['--version'])).stdout.split('\n')[0]}`);
const ONLY = argString('only');
if (ONLY !== 'push') await vmPart();
if (ONLY !== 'vm') await pushPart();
console.log(`\nload at the end ${await load()}`);
process.exit(0);
