// Compression bench for publishing (issue 6): zstd vs xz on the fixtures. Builds the hello
// fixture's binaries (host gcc, `make install DESTDIR`) as the builder's binaries archive would
// hold them, tars every fixture package (what a portpkg holds), and a large ELF sample
// (/usr/lib/git-core) for scale; prints size ratios and compress / decompress times.
// Run: npx tsx bench/compression.ts   (needs zstd and xz on PATH)
import { execa } from 'execa';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const CODECS: Array<{ name: string; cmd: string; args: string[] }> = [
  { name: 'zstd -3', cmd: 'zstd', args: ['-3'] },
  { name: 'zstd -19', cmd: 'zstd', args: ['-19'] },
  { name: 'zstd -19 --long=27', cmd: 'zstd', args: ['-19', '--long=27'] },
  { name: 'xz -6', cmd: 'xz', args: ['-6'] },
  { name: 'xz -9e', cmd: 'xz', args: ['-9e'] },
];
const REPEAT = 3;

async function tarOf(dir: string, out: string): Promise<Buffer> {
  await execa('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-cf', out, '-C', dir, '.']);
  return readFile(out);
}

async function samples(tmp: string): Promise<Array<{ name: string; data: Buffer }>> {
  const out: Array<{ name: string; data: Buffer }> = [];
  const build = path.join(tmp, 'hello-src');
  await cp(path.join(FIXTURES, 'hello'), build, { recursive: true });
  await execa('chmod', ['-R', 'u+w', build]);
  await execa('make', ['-C', build, 'install', 'PREFIX=/usr', `DESTDIR=${path.join(tmp, 'hello-root')}`]);
  out.push({ name: 'hello binaries (built, usr/…)', data: await tarOf(path.join(tmp, 'hello-root'), path.join(tmp, 'hb.tar')) });
  const all = path.join(tmp, 'all-fixtures');
  for (const f of await readdir(FIXTURES)) {
    await cp(path.join(FIXTURES, f), path.join(all, f), { recursive: true });
    out.push({ name: `portpkg ${f}`, data: await tarOf(path.join(FIXTURES, f), path.join(tmp, `${f}.tar`)) });
  }
  out.push({ name: 'all fixture sources', data: await tarOf(all, path.join(tmp, 'all.tar')) });
  try {
    if ((await stat('/usr/lib/git-core')).isDirectory()) out.push({ name: 'large ELF sample (/usr/lib/git-core)', data: await tarOf('/usr/lib/git-core', path.join(tmp, 'git.tar')) });
  } catch { /* not on this host */ }
  return out;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < REPEAT; i++) {
    const t = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return best;
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-bench-'));
try {
  const rows: string[] = ['| sample | tar bytes | codec | compressed | ratio | compress ms | decompress ms |', '|---|---:|---|---:|---:|---:|---:|'];
  for (const s of await samples(tmp)) {
    for (const c of CODECS) {
      let packed = Buffer.alloc(0);
      const ct = await timed(async () => { packed = Buffer.from((await execa(c.cmd, [...c.args, '-c', '-q'], { input: s.data, encoding: 'buffer', stripFinalNewline: false })).stdout); });
      const dargs = c.cmd === 'zstd' ? ['-d', '-c', '-q', ...(c.args.some((a) => a.startsWith('--long')) ? ['--long=27'] : [])] : ['-d', '-c', '-q'];
      const dt = await timed(() => execa(c.cmd, dargs, { input: packed, encoding: 'buffer', stripFinalNewline: false }));
      rows.push(`| ${s.name} | ${s.data.length} | ${c.name} | ${packed.length} | ${(s.data.length / packed.length).toFixed(2)} | ${ct.toFixed(1)} | ${dt.toFixed(1)} |`);
    }
  }
  const v = async (cmd: string) => String((await execa(cmd, ['--version'])).stdout).split('\n')[0];
  process.stdout.write(`${await v('zstd')}\n${await v('xz')}\nbest of ${REPEAT} runs, through a pipe (process start included)\n\n${rows.join('\n')}\n`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
