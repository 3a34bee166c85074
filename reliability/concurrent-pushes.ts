// Issue 8, item 1: R repos × P pushes at once (default 20 × 10) against `morphux serve` with the
// embedded build worker off; prints the figures and exits 1 when a check fails.
// Run: npx tsx reliability/concurrent-pushes.ts [--repos 20] [--pushes 10] [--built] [--keep]
// (--built: the server from dist/, as deployed, after `npm run build`; default: the source through tsx)
import { parseArgs } from 'node:util';
import { runConcurrentPushes } from './run-concurrent-pushes.js';

const { values } = parseArgs({ options: { repos: { type: 'string', default: '20' }, pushes: { type: 'string', default: '10' }, keep: { type: 'boolean', default: false }, built: { type: 'boolean', default: false } } });
const repos = Number(values.repos);
const pushes = Number(values.pushes);
if (!Number.isInteger(repos) || repos < 1 || !Number.isInteger(pushes) || pushes < 1) throw new Error('--repos and --pushes must be positive integers');

const r = await runConcurrentPushes({ repos, pushes, built: values.built, keep: values.keep, progress: (l) => console.log(`… ${l}`) });
const checks: Array<[string, boolean]> = [
  [`acknowledged pushes ${r.acknowledged}/${r.total}`, r.acknowledged === r.total],
  [`distinct pkgids ${r.distinctPkgids}/${r.total}`, r.distinctPkgids === r.total],
  [`lost ${r.lost.length}`, r.lost.length === 0],
  [`store tree problems ${r.tree.length} (uncommitted, temp files, bad JSON, incomplete folders)`, r.tree.length === 0],
  [`indexes byte-equal to a fresh reindex of a copy (${r.reindex.files} files; reindex said "${r.reindex.output}")`, r.reindex.equal],
  [`fsck: ${r.fsck.submissions} submissions, ${r.fsck.ports} packages, ${r.fsck.problems.length} problems`, r.fsck.ok && r.fsck.submissions === r.total],
];
console.log(`\nconcurrent pushes: ${r.repos} repos × ${r.pushesPerRepo} pushes = ${r.total}, all started at once, embedded build worker off, server ${values.built ? 'dist/ (built)' : 'source through tsx'}`);
for (const [what, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
console.log(`  wall time ${(r.wallMs / 1000).toFixed(1)} s (${(r.total / (r.wallMs / 1000)).toFixed(2)} pushes/s); per push p50 ${(r.latencyMs.p50 / 1000).toFixed(1)} s, p95 ${(r.latencyMs.p95 / 1000).toFixed(1)} s, max ${(r.latencyMs.max / 1000).toFixed(1)} s`);
for (const x of [...r.refused, ...r.lost, ...r.tree.map((p) => `${p.kind} ${p.path}: ${p.message}`), ...r.reindex.differences, ...r.fsck.problems.map((p) => `${p.code} ${p.path}: ${p.message}`)].slice(0, 20)) console.log(`  ! ${x}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
