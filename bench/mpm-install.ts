// Bench (the install issue): `mpm install <top> --root R --yes` of a closure of N packages (default
// 50) of real binaries into an empty root, against the physical reference measured in the same run
// on the same server: fetching the same N archives and `tar -x`ing them into an empty directory.
//
// The packages: host ELF files (programs from /usr/bin, libraries from /usr/lib/x86_64-linux-gnu,
// 100 KB–2 MB each, FILES a package, each file in one package only, chosen evenly over the sorted
// list so a run is the same from one day to the next on one machine), each package pushed as a
// submission and recorded as a good x86_64 build (test/support/good-submission.ts's goodSubmission:
// status good, through the store's status update); then its archive and manifest are replaced by
// those the builder makes of the same tree (builder/vm/pack-binaries.ts and measure-install.ts, as
// qemu-runner.ts calls them on the install's upper layer), through the same status update: the
// helper's own manifest lists files only, and mpm refuses an archive entry (a folder) that its
// manifest does not list. Package k (1..N) depends on k-1 and on k/2, so `rbinN` pulls in all N. The data is made
// with an in-process server, then the server runs as its own process on it (dist/, or src/ through
// tsx with --source), no build worker.
//
// Timed, alternating (which one goes first alternates too), after one untimed run of each:
//   mpm        <bundled mpm.js> install rbinN --root R --yes, R an empty folder: the real CLI,
//              bundled as test/support/cli-bin.ts bundles it and started as a user's `mpm` is, by
//              its first line (env -S … node --max-semi-space-size=…, this node first on PATH),
//              not as `node mpm.js`, which would leave out its flags; the plan, the N manifests, the N
//              archives (4 at a time, sha256 checked while they stream), every entry checked
//              against its manifest, staged with each file fsynced, the journal, the moves, the
//              database. R has no /etc, so ldconfig is skipped.
//   reference  one `curl --parallel --parallel-max 4` fetching the N archive URLs of the plan (the
//              plan itself asked once, untimed) into a folder, then `tar -xzf` of each into an
//              empty folder: the bytes fetched and unpacked, no checks, no fsync.
// After each run the folders are removed and `sync` runs (untimed), so no run starts with another's
// dirty pages. Reported: median (min–max) seconds of each, the ratio reference / mpm (the target is
// ≥ 0.5: mpm at least half the reference's speed), and mpm's peak RSS (GNU time's "Maximum resident
// set size", %M; target ≤ 100 MB).
// Run: npx tsx bench/mpm-install.ts [--packages 50] [--files 3] [--runs 5] [--source] [--reuse DIR]
//   --reuse DIR: the server's data is DIR/data, made there by an earlier run and kept (setting up
//   50 packages takes ~3 minutes); made there when absent.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measureInstall } from '../src/builder/vm/measure-install.js';
import { packBinaries } from '../src/builder/vm/pack-binaries.js';
import { updateStatus } from '../src/store/changes/update-status.js';
import { CLI_BIN, bundleClis } from '../test/support/cli-bin.js';
import { goodSubmission, maintainer } from '../test/support/good-submission.js';
import { freePort, ServerProcess } from '../test/support/server-process.js';
import { startTestServer, type TestServer } from '../test/support/test-server.js';
import { argNumber, argString, mb, median } from './support/stats.js';

const PACKAGES = argNumber('packages', 50);
const FILES = argNumber('files', 3);
const RUNS = argNumber('runs', 5);
const SOURCE = process.argv.includes('--source');
const REUSE_ARG = argString('reuse');
const REUSE = REUSE_ARG === undefined ? undefined : path.resolve(REUSE_ARG);
const CONCURRENCY = 4; // mpm's download pool (src/mpm/install/download.ts)
const MIN = 100 * 1024;
const MAX = 2 * 1024 * 1024;
const HOST_DIRS = ['/usr/bin', '/usr/lib/x86_64-linux-gnu'];

const name = (k: number) => `rbin${String(k).padStart(2, '0')}`;
/** Package k's runtime dependencies: k-1 and k/2 (so the top one's closure is every package). */
const depsOf = (k: number): Record<string, string> =>
  Object.fromEntries([...new Set([k - 1, Math.floor(k / 2)])].filter((j) => j >= 1 && j < k).map((j) => [name(j), '>=1.0']));

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

/** Regular ELF files of MIN–MAX bytes under HOST_DIRS (two levels), one path per inode, sorted. */
function hostBinaries(): string[] {
  const out: string[] = [];
  const inodes = new Set<string>();
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    for (const n of names) {
      const p = path.join(dir, n);
      let st;
      try { st = lstatSync(p); } catch { continue; }
      if (st.isDirectory() && depth > 0) walk(p, depth - 1);
      else if (st.isFile() && st.size >= MIN && st.size <= MAX && !inodes.has(`${st.dev}:${st.ino}`)) {
        try {
          if (!isElf(p)) continue;
        } catch { continue; }
        inodes.add(`${st.dev}:${st.ino}`);
        out.push(p);
      }
    }
  };
  for (const d of HOST_DIRS) walk(d, 1);
  return out.sort();
}

/** The files as a build's install would leave them (programs 0755, the rest 0644, folders 0755),
 *  packed and listed by the builder's own code, recorded as submission pkgid's x86_64 binaries. */
async function builderBinaries(s: TestServer, pkgid: number, files: Record<string, Buffer>, work: string): Promise<void> {
  const upper = await mkdtemp(path.join(work, 'upper-'));
  try {
    for (const [rel, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(upper, rel)), { recursive: true, mode: 0o755 });
      await writeFile(path.join(upper, rel), data, { mode: rel.includes('/bin/') ? 0o755 : 0o644 });
    }
    const { installed } = await measureInstall({ upperDir: upper, existed: new Set(), arch: 'x86_64', compileSeconds: 0.5 });
    const archive = `${upper}.tar.gz`;
    await packBinaries(upper, archive);
    await updateStatus(s.ctx.store, pkgid, {
      message: `bench: the builder's binaries of ${pkgid}`, actor: 'builder', change: () => {},
      binaries: { arch: 'x86_64', archive, manifest: { pkgid, arch: 'x86_64', files: installed }, provenance: await s.ctx.builds.provenanceRun() },
    });
    await rm(archive, { force: true });
  } finally {
    await rm(upper, { recursive: true, force: true });
  }
}

interface Planned { name: string; pkgid: number; binaries: { url: string; size: number } }

/** The reference: one curl fetching every archive (CONCURRENCY at a time), then tar -xzf of each. */
const REFERENCE_SH = `set -e
dl=$1; out=$2; shift 2
i=0; args=()
for u in "$@"; do i=$((i+1)); args+=(-o "$dl/$i.tar.gz" "$u"); done
t0=$EPOCHREALTIME
curl -sSf --parallel --parallel-max ${CONCURRENCY} "\${args[@]}"
t1=$EPOCHREALTIME
for f in "$dl"/*.tar.gz; do tar -xzf "$f" -C "$out"; done
echo "$t0 $t1 $EPOCHREALTIME"`;

async function timed(file: string, args: string[], env?: Record<string, string>): Promise<{ s: number; maxRssKiB: number; out: string }> {
  const tf = path.join(os.tmpdir(), `mpm-bench-time-${process.pid}`);
  const t = performance.now();
  const r = await execa('/usr/bin/time', ['-f', '%M', '-o', tf, file, ...args], { reject: false, ...(env ? { extendEnv: false, env } : {}) });
  const s = (performance.now() - t) / 1000;
  if (r.exitCode !== 0) throw new Error(`${file} ${args.slice(0, 4).join(' ')}…: exit ${r.exitCode}\n${String(r.stderr).slice(-2000)}`);
  const maxRssKiB = Number((await readFile(tf, 'utf8')).trim().split('\n').at(-1));
  await rm(tf, { force: true });
  return { s, maxRssKiB, out: String(r.stdout) };
}

/** Paths and sha256 of every regular file under dir (relative), for comparing the two results. */
async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) await walk(p);
      else if (st.isFile()) out.set(path.relative(dir, p), createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

async function main(): Promise<void> {
  if (!SOURCE) await execa('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const all = hostBinaries();
  const want = PACKAGES * FILES;
  if (all.length < want) throw new Error(`only ${all.length} ELF files of 100 KB–2 MB under ${HOST_DIRS.join(', ')}; ${want} wanted`);
  const picked = Array.from({ length: want }, (_, i) => all[Math.floor((i * all.length) / want)]!);
  console.log(`mpm install: ${PACKAGES} packages × ${FILES} host ELF files (${picked.length} of the ${all.length} found), ${RUNS} runs each, alternating; server from ${SOURCE ? 'src/ (tsx)' : 'dist/'}; load ${load()}`);

  const bytes = picked.reduce((n, f) => n + statSync(f).size, 0);
  const work = REUSE ?? (await mkdtemp(path.join(os.tmpdir(), 'bench-mpm-install-')));
  const data = path.join(work, 'data');
  try {
    const t0 = performance.now();
    const made = path.join(work, 'made'); // written once the data is whole
    if (REUSE && existsSync(made) && (await readFile(made, 'utf8')) === `${PACKAGES} ${FILES}\n`) {
      console.log(`  reusing the data in ${data}`);
    } else {
      await rm(data, { recursive: true, force: true });
      await rm(made, { force: true });
      await mkdir(data, { recursive: true });
      const prep = await startTestServer({ data, keep: true, worker: false });
      try {
        for (let k = 1; k <= PACKAGES; k++) {
          const files: Record<string, Buffer> = {};
          for (const f of picked.slice((k - 1) * FILES, k * FILES)) files[f.slice(1)] = await readFile(f);
          const m = await maintainer(prep, name(k));
          const pkgid = await goodSubmission(prep, m, name(k), '1.0', files, { edit: (p) => { p.dependencies = depsOf(k); } });
          await builderBinaries(prep, pkgid, files, work);
        }
      } finally {
        await prep.close();
      }
      console.log(`  ${PACKAGES} good submissions recorded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      await writeFile(made, `${PACKAGES} ${FILES}\n`);
    }
    console.log(`  ${picked.length} files, ${mb(bytes)} MiB installed`);
    // no build worker: nothing queued may start a VM beside the measurement
    await writeFile(path.join(data, 'morphux.yaml'), 'builder:\n  embedded_worker: false\nthrottle:\n  enabled: false\n');
    const server = new ServerProcess(data, await freePort(), { built: !SOURCE, log: path.join(work, 'server.log') });
    await server.start();
    try {
      const top = name(PACKAGES);
      const r = await fetch(`${server.url}/api/v1/install?pkg=${top}&arch=x86_64`);
      const plan = (await r.json()) as { packages?: Planned[] };
      if (r.status !== 200 || plan.packages?.length !== PACKAGES) throw new Error(`plan of ${top}: ${r.status} ${JSON.stringify(plan).slice(0, 300)}`);
      const urls = plan.packages.map((p) => p.binaries.url);
      const archiveBytes = plan.packages.reduce((n, p) => n + p.binaries.size, 0);
      console.log(`  plan of ${top}: ${plan.packages.length} packages, ${mb(archiveBytes)} MiB of archives`);
      await bundleClis();
      const mpmJs = path.join(CLI_BIN, 'mpm.js');
      await chmod(mpmJs, 0o755);
      // run by its #! line, as `mpm` runs (its node flags and glibc tunables), with this node as `node`
      const env = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: process.env.HOME ?? '/root', MORPHUX_LOG_LEVEL: 'silent', MPM_SERVER: server.url, MPM_TOKEN: '' };

      const runMpm = async () => {
        const root = await mkdtemp(path.join(work, 'root-'));
        try {
          const t = await timed(mpmJs, ['install', top, '--root', root, '--yes'], env);
          if (!t.out.includes(`installed ${top} 1.0`)) throw new Error(`mpm said: ${t.out.slice(-1000)}`);
          return { ...t, root };
        } catch (e) {
          await rm(root, { recursive: true, force: true });
          throw e;
        }
      };
      const runRef = async () => {
        const dl = await mkdtemp(path.join(work, 'dl-'));
        const out = await mkdtemp(path.join(work, 'ref-'));
        try {
          const t = await timed('/bin/bash', ['-c', REFERENCE_SH, 'reference', dl, out, ...urls]);
          const [a, b, c] = t.out.trim().split(' ').map(Number) as [number, number, number];
          return { ...t, root: out, fetchS: b - a, tarS: c - b };
        } finally {
          await rm(dl, { recursive: true, force: true });
        }
      };
      const clean = async (dir: string) => {
        await rm(dir, { recursive: true, force: true });
        await execa('sync');
      };

      // warm-up, and both give the same files
      const wm = await runMpm();
      const wr = await runRef();
      const [tm, tr] = [await tree(wm.root), await tree(wr.root)];
      const mpmFiles = [...tm].filter(([p]) => !p.startsWith('var/'));
      if (mpmFiles.length !== picked.length || mpmFiles.some(([p, h]) => tr.get(p) !== h) || tr.size !== picked.length) {
        throw new Error(`the roots differ: mpm ${mpmFiles.length} files, reference ${tr.size}, ${picked.length} expected`);
      }
      console.log(`  warm-up: mpm ${wm.s.toFixed(2)} s, reference ${wr.s.toFixed(2)} s; both roots hold the same ${tr.size} files`);
      await clean(wm.root);
      await clean(wr.root);

      const mpmS: number[] = [];
      const refS: number[] = [];
      const rss: number[] = [];
      const fetchS: number[] = [];
      const tarS: number[] = [];
      for (let n = 0; n < RUNS; n++) {
        const order = n % 2 ? (['ref', 'mpm'] as const) : (['mpm', 'ref'] as const);
        for (const which of order) {
          if (which === 'mpm') {
            const t = await runMpm();
            mpmS.push(t.s);
            rss.push(t.maxRssKiB / 1024);
            await clean(t.root);
          } else {
            const t = await runRef();
            refS.push(t.s);
            fetchS.push(t.fetchS);
            tarS.push(t.tarS);
            await clean(t.root);
          }
        }
        console.log(`  run ${n + 1}: mpm ${mpmS.at(-1)!.toFixed(2)} s (peak RSS ${rss.at(-1)!.toFixed(0)} MiB), reference ${refS.at(-1)!.toFixed(2)} s (curl ${fetchS.at(-1)!.toFixed(2)}, tar ${tarS.at(-1)!.toFixed(2)}); load ${load()}`);
      }
      const span = (xs: number[]) => `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
      console.log(`\n${PACKAGES} packages, ${picked.length} files, ${mb(bytes)} MiB installed, ${mb(archiveBytes)} MiB of archives; ${RUNS} runs each`);
      console.log(`  mpm install --yes         median ${span(mpmS)}`);
      console.log(`  reference curl + tar -x   median ${span(refS)}: curl ${median(fetchS).toFixed(2)} s, tar -x ${median(tarS).toFixed(2)} s`);
      console.log(`  reference / mpm           ${(median(refS) / median(mpmS)).toFixed(2)}× (target ≥ 0.5)`);
      console.log(`  mpm peak RSS              max ${Math.max(...rss).toFixed(0)} MiB, median ${median(rss).toFixed(0)} MiB (target ≤ 100 MB = 95 MiB)`);
      console.log(`  load average now          ${load()}`);
    } finally {
      await server.kill();
    }
  } finally {
    if (!REUSE) await rm(work, { recursive: true, force: true });
  }
}

await main();
