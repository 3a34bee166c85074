// The concurrency scenario of issue 8 (item 1), parametrised: R repos × P version branches pushed
// all at once to one `morphux serve` (embedded build worker off: builder.embedded_worker false, so
// VMs do not dominate and submissions stay queued). It checks R×P acknowledged pushes, R×P distinct
// pkgids, none lost (every acknowledged push has its submission, through the API and in the store),
// the indexes byte-equal to a fresh `morphux store reindex` of a copy, and `morphux store fsck` clean.
// Used by test/e2e/concurrent-pushes.test.ts (small) and reliability/concurrent-pushes.ts (20×10).
import { rm } from 'node:fs/promises';
import type { FsckReport } from '../src/store/layout/fsck-store.js';
import { fixtureRepo, gitWithin, pushUrl, queuedLine } from '../test/support/git-client.js';
import { api } from '../test/support/test-server.js';
import { checkStoreTree, type TreeProblem } from './check-store-tree.js';
import { fsckData } from './fsck-data.js';
import { reindexCopy, type ReindexComparison } from './reindex-copy.js';
import { startHarnessServer } from './start-harness-server.js';

export interface ConcurrentPushesResult {
  repos: number;
  pushesPerRepo: number;
  total: number;
  /** pushes that exited 0 and printed "submission N queued" */
  acknowledged: number;
  distinctPkgids: number;
  /** outputs of pushes that were not acknowledged */
  refused: string[];
  /** acknowledged pushes whose submission is missing or wrong */
  lost: string[];
  tree: TreeProblem[];
  reindex: ReindexComparison;
  fsck: FsckReport;
  prepareMs: number;
  /** from the first push started to the last one finished */
  wallMs: number;
  latencyMs: { p50: number; p95: number; max: number };
}

/** a push waits its turn behind all the others: the client's limit is generous, the figure is what counts */
const PUSH_TIMEOUT_MS = 30 * 60 * 1000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

/** fn over xs, at most `limit` at a time, results in order */
async function mapLimit<T, R>(xs: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, async () => {
    while (i < xs.length) {
      const k = i++;
      out[k] = await fn(xs[k]!);
    }
  }));
  return out;
}

export async function runConcurrentPushes(o: { repos: number; pushes: number; built?: boolean; keep?: boolean; progress?: (line: string) => void }): Promise<ConcurrentPushesResult> {
  const say = o.progress ?? (() => {});
  const h = await startHarnessServer({ worker: false, prefix: 'morphux-concurrent', built: o.built });
  const copies: string[] = [];
  try {
    const token = await h.newUser('alice');
    const names = Array.from({ length: o.repos }, (_, i) => `pkg${i}`);
    for (const name of names) {
      const r = await api(h.server.url, 'POST', '/api/v1/repos', { name }, token);
      if (r.status !== 201) throw new Error(`POST /api/v1/repos ${name}: ${r.status}`);
    }
    const pushes = names.flatMap((name) => Array.from({ length: o.pushes }, (_, v) => ({ name, version: `1.${v}`, wc: '' })));
    const t0 = performance.now();
    await mapLimit(pushes, 8, async (p) => {
      p.wc = await fixtureRepo('hello', (m) => { m.name = p.name; m.version = p.version; m.description = `${p.name} ${p.version}`; });
      copies.push(p.wc);
    });
    const prepareMs = performance.now() - t0;
    say(`${pushes.length} working copies ready in ${(prepareMs / 1000).toFixed(1)} s; pushing all at once`);

    const t1 = performance.now();
    const outs = await Promise.all(pushes.map(async (p) => {
      const start = performance.now();
      const r = await gitWithin(PUSH_TIMEOUT_MS, p.wc, 'push', pushUrl(h.server.url, p.name, 'alice', token), `HEAD:refs/heads/version-${p.version}`);
      return { ...p, ...r, ms: performance.now() - start, q: r.code === 0 ? queuedLine(r.out) : null };
    }));
    const wallMs = performance.now() - t1;
    say(`pushes done in ${(wallMs / 1000).toFixed(1)} s`);

    const acked = outs.filter((x) => x.q);
    const refused = outs.filter((x) => !x.q).map((x) => `${x.name} ${x.version}: exit ${x.code}: ${x.out.slice(-500)}`);
    const lost: string[] = [];
    for (const x of acked) {
      const r = await api(h.server.url, 'GET', `/api/v1/pkg/${x.q!.pkgid}`);
      const s = r.json?.submission;
      if (r.status !== 200 || s?.name !== x.name || s?.version !== x.version) lost.push(`${x.name} ${x.version} → pkgid ${x.q!.pkgid}: GET answered ${r.status} ${s?.name} ${s?.version}`);
    }
    for (const name of names) {
      const r = await api(h.server.url, 'GET', `/api/v1/ports/${name}`);
      const listed = new Set<number>((r.json?.submissions ?? []).map((s: { pkgid: number }) => s.pkgid));
      for (const x of acked.filter((a) => a.name === name)) if (!listed.has(x.q!.pkgid)) lost.push(`${name} ${x.version}: pkgid ${x.q!.pkgid} not listed by GET /api/v1/ports/${name}`);
    }
    await h.server.kill(); // idle: every acknowledged push is committed
    const tree = await checkStoreTree(`${h.data}/store`);
    const inTree = new Set(tree.pkgids);
    for (const x of acked) if (!inTree.has(x.q!.pkgid)) lost.push(`${x.name} ${x.version}: no folder for pkgid ${x.q!.pkgid} in the store`);
    const reindex = await reindexCopy(h.data);
    const fsck = await fsckData(h.data);
    const ms = outs.map((x) => x.ms);
    return {
      repos: o.repos, pushesPerRepo: o.pushes, total: pushes.length, acknowledged: acked.length,
      distinctPkgids: new Set(acked.map((x) => x.q!.pkgid)).size, refused, lost, tree: tree.problems, reindex, fsck,
      prepareMs, wallMs, latencyMs: { p50: pct(ms, 50), p95: pct(ms, 95), max: Math.max(...ms) },
    };
  } finally {
    await Promise.all(copies.map((d) => rm(d, { recursive: true, force: true })));
    await h.close(o.keep);
  }
}
