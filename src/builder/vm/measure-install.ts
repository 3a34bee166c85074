// Measures what an install produced, from the host copy of the install's upper layer: installed
// size (regular files, each inode once), created vs modified files, ELF binaries, and a manifest
// entry per path. Directories are listed in the manifest only, not in files/modified_files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Arch } from '../../config/config-schema.js';
import type { BuildMeasurements, InstalledEntry } from './vm-types.js';

export interface InstallMeasure {
  measurements: BuildMeasurements;
  installed: InstalledEntry[];
}

export interface MeasureInput {
  upperDir: string;
  /** absolute paths of the upper layer that existed below it */
  existed: Set<string>;
  arch: Arch;
  compileSeconds: number;
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function isElf(file: string, size: number): Promise<boolean> {
  if (size < 4) return false;
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await fh.close();
  }
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const names = (await readdir(path.join(root, rel))).sort();
  for (const n of names) {
    const p = `${rel}/${n}`;
    out.push(p);
    if ((await lstat(path.join(root, p))).isDirectory()) await walk(root, p, out);
  }
}

export async function measureInstall(input: MeasureInput): Promise<InstallMeasure> {
  const paths: string[] = [];
  await walk(input.upperDir, '', paths);
  const installed: InstalledEntry[] = [];
  const files: string[] = [];
  const modified: string[] = [];
  const binaries: string[] = [];
  const inodes = new Map<string, { path: string; elf: boolean }>();
  let size = 0;
  for (const p of paths) {
    const host = path.join(input.upperDir, p);
    const st = await lstat(host);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      installed.push({ path: p, type: 'dir', size: 0, mode });
      continue;
    }
    if (st.isSymbolicLink()) {
      installed.push({ path: p, type: 'symlink', size: 0, mode, target: await readlink(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first) {
        installed.push({ path: p, type: 'hardlink', size: 0, mode, target: first.path });
        if (first.elf) binaries.push(p);
      } else {
        const elf = await isElf(host, st.size);
        inodes.set(key, { path: p, elf });
        size += st.size;
        installed.push({ path: p, type: 'file', size: st.size, mode, sha256: await sha256(host) });
        if (elf) binaries.push(p);
      }
    } else {
      continue; // devices, fifos, sockets are never reported
    }
    (input.existed.has(p) ? modified : files).push(p);
  }
  return {
    measurements: {
      arch: input.arch, installed_size: size, compile_seconds: input.compileSeconds,
      files, modified_files: modified, binaries,
    },
    installed,
  };
}
