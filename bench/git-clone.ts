// Git clone bench (issue 8, item 6): `git clone` of a ~50 MB package repo (random, incompressible
// files over several commits, pushed through the server, then repacked as a served repo would be
// after gc) through the built server's smart HTTP, against `git clone file:///…` of the same bare
// repo: the same pack protocol (upload-pack, protocol v2) without HTTP. A plain `git clone /path`
// would hardlink the objects and copy nothing, so it is not the reference. Runs alternate;
// median of each and the ratio (file:// time / HTTP time, so higher is better). Target ≥ 0.8.
// Run: npm run build && npx tsx bench/git-clone.ts [--mb 50] [--runs 5]
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchServer } from './support/bench-server.js';
import { pushBigRepo } from './support/big-repo.js';
import { argNumber, mb, median } from './support/stats.js';

const MB = argNumber('mb', 50);
const RUNS = argNumber('runs', 5);
const NAME = 'bigpkg';

const server = await benchServer(async (s) => {
  const repo = await pushBigRepo(s, NAME, MB * 1024 * 1024);
  await execa('git', ['repack', '-a', '-d', '-q'], { cwd: repo.bare });
  return repo;
});
const work = await mkdtemp(path.join(os.tmpdir(), 'bench-clone-'));
try {
  const { bare } = server.made;
  const packBytes = Number((await execa('git', ['count-objects', '-v'], { cwd: bare })).stdout.match(/size-pack: (\d+)/)?.[1] ?? 0) * 1024;
  console.log(`repo ${NAME}: pack ${mb(packBytes)} MB; ${RUNS} clones each way, alternated; server pid ${server.pid}`);
  const sources = { http: `${server.url}/${NAME}.git`, file: `file://${bare}` };
  const times: Record<keyof typeof sources, number[]> = { http: [], file: [] };
  const clone = async (kind: keyof typeof sources, i: number): Promise<number> => {
    const dst = path.join(work, `${kind}-${i}`);
    const t0 = performance.now();
    const r = await execa('git', ['clone', '-q', sources[kind], dst], { reject: false, env: { GIT_TERMINAL_PROMPT: '0' } });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`git clone ${sources[kind]}: ${r.stderr}`);
    await rm(dst, { recursive: true, force: true });
    return ms;
  };
  await clone('http', 0); // warm-up: page cache, the server's first git process
  await clone('file', 0);
  for (let i = 1; i <= RUNS; i++) {
    for (const kind of (i % 2 ? ['http', 'file'] : ['file', 'http']) as Array<keyof typeof sources>) {
      const ms = await clone(kind, i);
      times[kind].push(ms);
      console.error(`run ${i} ${kind}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
  const h = median(times.http);
  const f = median(times.file);
  console.log('| clone | runs | median s | min s | max s | MB/s (pack) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [kind, label] of [['http', 'through the server (smart HTTP)'], ['file', 'file:// (upload-pack, no HTTP)']] as const) {
    const xs = times[kind];
    console.log(`| ${label} | ${xs.length} | ${(median(xs) / 1000).toFixed(2)} | ${(Math.min(...xs) / 1000).toFixed(2)} | ${(Math.max(...xs) / 1000).toFixed(2)} | ${(packBytes / 1024 / 1024 / (median(xs) / 1000)).toFixed(1)} |`);
  }
  console.log(`ratio file:// / HTTP (median): ${(f / h).toFixed(2)}× (target ≥ 0.8×)`);
} finally {
  await rm(work, { recursive: true, force: true });
  await server.close();
}
