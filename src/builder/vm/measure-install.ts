// Measures what an install produced, from the host copy of the install's upper layer: installed
// size (regular files, each inode once), created vs modified files, ELF binaries, and a manifest
// entry per path. Directories are listed in the manifest only, not in files/modified_files.
// The manifest (`installed`) leaves out the system's caches and the directories they alone filled
// (domain/system-caches.ts), as the binaries archive does; the measurements still list them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Arch } from '../../domain/arch.js';
import { shippedPaths } from '../../domain/system-caches.js';
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

export interface UpperPath {
  /** absolute, as installed: /usr/bin/tool */
  path: string;
  dir: boolean;
}

/** Every path of the upper layer, each directory before its content, names in sorted order. */
export async function walkUpper(root: string, rel = '', out: UpperPath[] = []): Promise<UpperPath[]> {
  const names = (await readdir(path.join(root, rel))).sort();
  for (const n of names) {
    const p = `${rel}/${n}`;
    const dir = (await lstat(path.join(root, p))).isDirectory();
    out.push({ path: p, dir });
    if (dir) await walkUpper(root, p, out);
  }
  return out;
}

export async function measureInstall(input: MeasureInput): Promise<InstallMeasure> {
  const paths = await walkUpper(input.upperDir);
  const shipped = shippedPaths(paths);
  const installed: InstalledEntry[] = [];
  const files: string[] = [];
  const modified: string[] = [];
  const binaries: string[] = [];
  /** every inode's first name (the measurements), and its first shipped name (the manifest) */
  const inodes = new Map<string, { path: string; elf: boolean; sha256: string }>();
  const shippedInodes = new Map<string, string>();
  let size = 0;
  for (const { path: p } of paths) {
    const host = path.join(input.upperDir, p);
    const st = await lstat(host);
    const mode = st.mode & 0o7777;
    const ship = shipped.has(p);
    if (st.isDirectory()) {
      if (ship) installed.push({ path: p, type: 'dir', size: 0, mode });
      continue;
    }
    if (st.isSymbolicLink()) {
      if (ship) installed.push({ path: p, type: 'symlink', size: 0, mode, target: await readlink(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      let first = inodes.get(key);
      if (!first) {
        first = { path: p, elf: await isElf(host, st.size), sha256: await sha256(host) };
        inodes.set(key, first);
        size += st.size;
      }
      if (first.elf) binaries.push(p);
      if (ship) {
        const shippedFirst = shippedInodes.get(key);
        if (shippedFirst !== undefined) {
          installed.push({ path: p, type: 'hardlink', size: 0, mode, target: shippedFirst });
        } else {
          shippedInodes.set(key, p);
          installed.push({ path: p, type: 'file', size: st.size, mode, sha256: first.sha256 });
        }
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
