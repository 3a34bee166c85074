// Finds the host's Debian kernel (/boot/vmlinuz-<ver> with /lib/modules/<ver>) and extracts the
// uncompressed vmlinux from it, which QEMU boots directly through PVH (no in-guest decompression).
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { MorphuxError } from '../../domain/errors.js';

export interface HostKernel {
  version: string;
  vmlinuz: string;
  modulesDir: string;
}

export function hostKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): HostKernel {
  const versions = (existsSync(bootDir) ? readdirSync(bootDir) : [])
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(path.join(modulesRoot, v, 'modules.dep')))
    .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  const version = versions[0];
  if (!version) {
    throw new MorphuxError('infrastructure', `no kernel in ${bootDir} with modules in ${modulesRoot} (install linux-image-amd64: scripts/setup.sh)`);
  }
  return { version, vmlinuz: path.join(bootDir, `vmlinuz-${version}`), modulesDir: path.join(modulesRoot, version) };
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Writes the ELF kernel embedded (xz-compressed) in a bzImage to `dest`. */
export async function extractVmlinux(vmlinuz: string, dest: string): Promise<void> {
  const fh = await open(vmlinuz, 'r');
  let offset = -1;
  try {
    const size = (await stat(vmlinuz)).size;
    const buf = Buffer.alloc(Math.min(size, 256 * 1024 * 1024));
    await fh.read(buf, 0, buf.length, 0);
    offset = buf.indexOf(XZ_MAGIC);
  } finally {
    await fh.close();
  }
  if (offset < 0) throw new MorphuxError('infrastructure', `${vmlinuz} holds no xz-compressed kernel`);
  const xz = execa('xz', ['-dc', '--single-stream'], { stdin: 'pipe', stdout: 'pipe', buffer: false });
  await Promise.all([
    pipeline(createReadStream(vmlinuz, { start: offset }), xz.stdin!).catch(() => undefined), // xz stops reading after the stream
    pipeline(xz.stdout!, createWriteStream(dest)),
    xz,
  ]);
  const head = Buffer.alloc(4);
  const out = await open(dest, 'r');
  try { await out.read(head, 0, 4, 0); } finally { await out.close(); }
  if (!head.equals(Buffer.from('\x7fELF', 'latin1'))) throw new MorphuxError('infrastructure', `the kernel extracted from ${vmlinuz} is not an ELF file`);
}
