// Issue 8, item 2: the crash harness. A server (its own process group, VMs included) under a mixed
// workload from several clients is SIGKILLed at seeded random moments and started again on the same
// data dir. After each restart, holding the store's lock (a transaction that changes nothing, so
// the server cannot write meanwhile): every acknowledged operation is in the store, the working
// tree has no uncommitted file, temp file, unparseable JSON or incomplete pkgid folder, and fsck is
// clean. At the end, with the embedded worker on, every submission's build (queued or interrupted)
// must finish good with exactly one builder report.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../src/lib/logger.js';
import { fsckStore } from '../src/store/layout/fsck-store.js';
import { storePaths } from '../src/store/layout/store-paths.js';
import { Store } from '../src/store/tree/store.js';
import type { BuildReport, SubmissionStatus } from '../src/domain/submission.js';
import { numberedJson } from '../src/store/tree/committed-tree.js';
import { checkJournal, type AckKind } from './check-journal.js';
import { checkStoreTree } from './check-store-tree.js';
import { CrashWorkload, OP_KINDS, type OpKind } from './crash-workload.js';
import { seededRandom } from './seeded-random.js';
import { startHarnessServer } from './start-harness-server.js';

export interface CrashHarnessOptions {
  kills: number;
  seed: number;
  clients: number;
  /** run the embedded build worker (VM builds of the hello fixture) */
  worker: boolean;
  /** submissions (pushes + uploads) started over the whole run; spread evenly over the kills */
  submissions: number;
  /** kill delays: mostly short, sometimes long enough for a build to finish */
  delayMs: { short: [number, number]; long: [number, number]; longShare: number };
  /** share of kills aimed at one kind of operation (or a running VM): started on purpose, killed soon after */
  aimedShare: number;
  drainTimeoutMs: number;
  keep?: boolean;
  progress?: (line: string) => void;
}

export interface KillRecord {
  n: number;
  /** what the kill was aimed at, or null for a plain random delay */
  aim: string | null;
  afterMs: number;
  /** operations in flight when the kill landed, and whether a VM was running */
  interrupted: string[];
  vm: boolean;
  recoveryMs: number;
  checkMs: number;
  problems: string[];
}

export interface CrashHarnessResult {
  seed: number;
  data: string;
  kills: KillRecord[];
  acknowledged: Record<AckKind, number>;
  failedOps: number;
  submissions: number;
  problems: string[];
  /** with the worker: states after the drain, and how long it took */
  builds: { good: number; other: string[]; drainMs: number } | null;
}

/** Commands of the server's children and of its process group (from /proc): a VM is a child. */
async function serverProcesses(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const p of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) \S+ (\d+) (\d+)/.exec(stat);
    if (m && (Number(m[2]) === pid || Number(m[3]) === pid)) out.push(m[1]!);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls cond every 10 ms until it holds or ms have passed. */
async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond()) && performance.now() < end) await sleep(10);
}

export async function runCrashHarness(o: CrashHarnessOptions): Promise<CrashHarnessResult> {
  const say = o.progress ?? (() => {});
  const rnd = seededRandom(o.seed);
  const h = await startHarnessServer({ worker: o.worker, prefix: 'morphux-crash' });
  const store = new Store({ root: path.join(h.data, 'store'), stateDir: path.join(h.data, 'state'), tmpDir: path.join(h.data, 'tmp'), log: silentLogger });
  const clients = [];
  for (let i = 0; i < o.clients; i++) clients.push(await CrashWorkload.makeClient(`user${i}`, await h.newUser(`user${i}`), i));
  const w = new CrashWorkload(() => h.server.url, clients, rnd);
  const problems: string[] = [];
  const kills: KillRecord[] = [];

  /** every check, while holding the store lock (the server cannot commit meanwhile) */
  const checkAll = () => store.transact('reliability check (changes nothing)', 'harness', async () => {
    try {
      const tree = await checkStoreTree(store.root);
      const lost = await checkJournal(store.root, w.journal);
      const fsck = await fsckStore(store);
      return [
        ...tree.problems.map((p) => `${p.kind}: ${p.path}: ${p.message}`),
        ...lost.map((l) => `lost: ${l}`),
        ...fsck.problems.map((p) => `fsck ${p.code}: ${p.path}: ${p.message}`),
      ];
    } catch (e) {
      return [`check failed: ${(e as Error).message}`];
    }
  });

  let ok = false;
  try {
    for (const c of clients) {
      const r = await fetch(`${h.server.url}/api/v1/repos`, { method: 'POST', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: c.repo }) });
      if (r.status !== 201) throw new Error(`POST /api/v1/repos ${c.repo}: ${r.status}`);
    }
    await w.seed();
    w.start();
    for (let n = 1; n <= o.kills; n++) {
      w.submissionBudget = Math.ceil((o.submissions * n) / o.kills);
      const t = performance.now();
      const aim = rnd.next() < o.aimedShare ? rnd.pick([...OP_KINDS, ...(o.worker ? ['vm'] : [])]) : null;
      if (aim === 'vm') {
        await until(async () => (await serverProcesses(h.server.pid!)).some((c) => c.startsWith('qemu')), 120_000);
        await sleep(rnd.int(0, 10_000));
      } else if (aim) {
        w.force = aim as OpKind;
        await until(async () => (w.inFlight.get(aim as OpKind) ?? 0) > 0, 30_000);
        await sleep(rnd.int(0, aim === 'push' ? 2000 : aim === 'upload' ? 500 : 100));
      } else {
        const [lo, hi] = rnd.next() < o.delayMs.longShare ? o.delayMs.long : o.delayMs.short;
        await sleep(rnd.int(lo, hi));
      }
      const afterMs = Math.round(performance.now() - t);
      const interrupted = w.busy();
      const vm = (await serverProcesses(h.server.pid!)).some((c) => c.startsWith('qemu'));
      await h.server.kill();
      await w.pause();
      const t0 = performance.now();
      await h.server.start();
      const recoveryMs = performance.now() - t0;
      const t1 = performance.now();
      const found = await checkAll();
      const rec: KillRecord = { n, aim, afterMs, interrupted, vm, recoveryMs, checkMs: performance.now() - t1, problems: found };
      kills.push(rec);
      problems.push(...found.map((p) => `after kill ${n}: ${p}`));
      say(`kill ${n}/${o.kills}${aim ? ` aimed at ${aim}` : ''} after ${afterMs} ms during [${[...interrupted, ...(vm ? ['vm'] : [])].join(', ') || 'idle'}]: restarted in ${(recoveryMs / 1000).toFixed(1)} s, ${found.length} problems, ${w.journal.length} acks so far`);
      for (const p of found.slice(0, 5)) say(`  ! ${p}`);
      w.resume();
    }
    await w.stop();

    let builds: CrashHarnessResult['builds'] = null;
    const pkgids = (await checkStoreTree(store.root)).pkgids;
    if (o.worker) {
      const t0 = performance.now();
      const states = new Map<number, string>();
      for (;;) {
        for (const id of pkgids) states.set(id, (await store.readJson<SubmissionStatus>(storePaths.status(id)))?.state ?? 'missing');
        const open = [...states.values()].filter((s) => s !== 'good' && s !== 'failed').length;
        if (open === 0) break;
        if (performance.now() - t0 > o.drainTimeoutMs) break;
        say(`draining: ${open} of ${pkgids.length} builds not finished`);
        await new Promise((r) => setTimeout(r, 10_000));
      }
      const other: string[] = [];
      for (const id of pkgids) {
        if (states.get(id) !== 'good') other.push(`pkgid ${id}: ${states.get(id)}`);
        let builderReports = 0;
        for (const k of await numberedJson(store, storePaths.reports(id))) {
          if ((await store.readJson<BuildReport>(storePaths.report(id, k)))?.kind === 'builder') builderReports++;
        }
        if (states.get(id) === 'good' && builderReports !== 1) other.push(`pkgid ${id}: ${builderReports} builder reports`);
      }
      builds = { good: pkgids.filter((id) => states.get(id) === 'good').length, other, drainMs: performance.now() - t0 };
      problems.push(...other.map((x) => `build: ${x}`));
    }
    problems.push(...(await checkAll()).map((p) => `at the end: ${p}`));
    const acknowledged = Object.fromEntries((['push', 'push_ref', 'upload', 'comment', 'report', 'tag', 'vote'] as AckKind[]).map((k) => [k, w.acked(k)])) as Record<AckKind, number>;
    ok = problems.length === 0;
    return { seed: o.seed, data: h.data, kills, acknowledged, failedOps: w.failures, submissions: pkgids.length, problems, builds };
  } finally {
    await w.stop().catch(() => {});
    await h.close(o.keep || !ok);
  }
}
