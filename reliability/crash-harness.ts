// Issue 8, item 2: SIGKILLs `morphux serve` (and its git processes and VMs) at seeded random moments
// during pushes, uploads, meta writes and builds, restarts it, and checks after every restart that
// nothing acknowledged was lost and nothing half-written is visible; at the end every build must
// finish. Prints the seed (rerun with --seed), a line per kill and a summary; exits 1 on a problem.
// Run: npx tsx reliability/crash-harness.ts [--kills 50] [--seed N] [--clients 4] [--submissions 30] [--no-worker] [--keep]
import { parseArgs } from 'node:util';
import { runCrashHarness } from './run-crash-harness.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '4' },
    submissions: { type: 'string' },
    'no-worker': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
};
const kills = int('kills', values.kills, 1);
const seed = values.seed !== undefined ? int('seed', values.seed, 0) : Math.floor(Math.random() * 2 ** 31);
const worker = !values['no-worker'];
console.log(`crash harness: seed ${seed}, ${kills} kills, build worker ${worker ? 'on (hello fixture in VMs)' : 'off'}`);

const r = await runCrashHarness({
  kills, seed, worker, keep: values.keep,
  clients: int('clients', values.clients, 1),
  submissions: values.submissions !== undefined ? int('submissions', values.submissions, 0) : Math.ceil(kills * 0.6),
  delayMs: { short: [300, 8000], long: [8000, 30000], longShare: 0.2 }, aimedShare: 0.4,
  drainTimeoutMs: 60 * 60 * 1000,
  progress: (l) => console.log(l),
});

const rec = r.kills.map((k) => k.recoveryMs).sort((a, b) => a - b);
const during = (what: string) => r.kills.filter((k) => (what === 'vm' ? k.vm : k.interrupted.includes(what))).length;
console.log(`\nsummary (seed ${r.seed})`);
console.log(`  kills: ${r.kills.length}; landing during push ${during('push')}, upload ${during('upload')}, comment ${during('comment')}, report ${during('report')}, tag ${during('tag')}, vote ${during('vote')}, a running VM ${during('vm')}, idle ${r.kills.filter((k) => !k.vm && k.interrupted.length === 0).length}`);
console.log(`  aimed kills (an operation of that kind started on purpose, killed 0–0.1 s later, 0–0.5 s for an upload, 0–2 s for a push, 0–10 s into a VM): ${[...new Set(r.kills.map((k) => k.aim).filter(Boolean))].map((a) => `${a} ${r.kills.filter((k) => k.aim === a).length}`).join(', ') || 'none'}`);
console.log(`  acknowledged: ${Object.entries(r.acknowledged).map(([k, n]) => `${k} ${n}`).join(', ')}; operations not acknowledged (cut by a kill) ${r.failedOps}`);
console.log(`  submissions in the store: ${r.submissions}`);
console.log(`  restart (SIGKILL → API answering): median ${(rec[Math.floor(rec.length / 2)]! / 1000).toFixed(1)} s, max ${(rec.at(-1)! / 1000).toFixed(1)} s`);
if (r.builds) console.log(`  builds after the last restart: ${r.builds.good}/${r.submissions} good, drained in ${(r.builds.drainMs / 1000).toFixed(0)} s`);
console.log(`  problems: ${r.problems.length}`);
for (const p of r.problems.slice(0, 30)) console.log(`  ! ${p}`);
if (r.problems.length) console.log(`  data dir kept: ${r.data}`);
process.exit(r.problems.length ? 1 : 0);
