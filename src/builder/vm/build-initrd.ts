// Builds the guest initramfs (newc cpio, gzip): static busybox, the kernel modules the guest needs
// in load order (decompressed), and the generic /init of initrd-init.ts.
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { MorphuxError } from '../../domain/errors.js';
import { INITRD_INIT } from './initrd-init.js';
import { moduleName, moduleOrder } from './module-order.js';

export interface InitrdSpec {
  busybox: string;
  modulesDir: string;
  modules: string[];
}

async function listTree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...await listTree(root, p));
  }
  return out;
}

async function decompressedModule(src: string): Promise<Buffer> {
  if (src.endsWith('.ko')) return readFile(src);
  const tool = src.endsWith('.xz') ? 'xz' : src.endsWith('.zst') ? 'zstd' : src.endsWith('.gz') ? 'gzip' : null;
  if (!tool) throw new MorphuxError('infrastructure', `unknown kernel module compression: ${src}`);
  const r = await execa(tool, ['-dc', src], { encoding: 'buffer', stripFinalNewline: false });
  return Buffer.from(r.stdout);
}

/** The wanted modules less those the kernel has built in (modules.builtin): nothing to load for them. */
async function notBuiltIn(spec: InitrdSpec): Promise<string[]> {
  let builtin = '';
  try { builtin = await readFile(path.join(spec.modulesDir, 'modules.builtin'), 'utf8'); } catch { return spec.modules; }
  const names = new Set(builtin.split('\n').filter(Boolean).map(moduleName));
  return spec.modules.filter((m) => !names.has(m.replace(/-/g, '_')));
}

export async function buildInitrd(spec: InitrdSpec, dest: string): Promise<void> {
  const staging = await mkdtemp(`${dest}.stage-`);
  try {
    await mkdir(path.join(staging, 'bin'), { recursive: true });
    await mkdir(path.join(staging, 'lib/modules'), { recursive: true });
    await copyFile(spec.busybox, path.join(staging, 'bin/busybox'));
    await chmod(path.join(staging, 'bin/busybox'), 0o755);
    const order = moduleOrder(await readFile(path.join(spec.modulesDir, 'modules.dep'), 'utf8'), await notBuiltIn(spec));
    for (const m of order) {
      await writeFile(path.join(staging, 'lib/modules', `${m.name}.ko`), await decompressedModule(path.join(spec.modulesDir, m.relPath)));
    }
    await writeFile(path.join(staging, 'lib/modules/order'), order.map((m) => m.name).join('\n') + '\n');
    await writeFile(path.join(staging, 'init'), INITRD_INIT, { mode: 0o755 });
    const files = await listTree(staging);
    const cpio = await execa('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], {
      cwd: staging, input: files.join('\n') + '\n', encoding: 'buffer', stripFinalNewline: false,
    });
    await writeFile(dest, gzipSync(Buffer.from(cpio.stdout), { level: 6 }));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
