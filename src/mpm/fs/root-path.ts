// Paths inside ROOT. A package path (/usr/lib/x) is resolved as the installed system would see it:
// symlinks among its folders are followed as if ROOT were / (so never out of ROOT), the last part
// never. `RootDisk` is the read-only view of ROOT that the pure planner (changes.ts) works through.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import { sha256FileSync } from './durable.js';

export type DiskType = 'file' | 'dir' | 'symlink' | 'other';
export interface DiskEntry {
  type: DiskType;
  /** permission bits (st_mode & 0o7777) */
  mode: number;
  size: number;
}

/** What the planner needs to know about ROOT; paths are in-root ("/usr/bin/x"). */
export interface Disk {
  /** the physical in-root path of `p`: its folders' symlinks followed inside ROOT, the last part kept */
  resolve(p: string): string;
  /** lstat of a physical in-root path, null when nothing is there */
  lstat(p: string): DiskEntry | null;
  sha256(p: string): string | null;
  readlink(p: string): string | null;
}

const MAX_LINKS = 40;

/** The host path of an in-root path. */
export const hostPath = (root: string, p: string): string => (root === '/' ? p : path.join(root, p));

export function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

export function entryOf(st: Stats | null): DiskEntry | null {
  if (!st) return null;
  const type: DiskType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { type, mode: st.mode & 0o7777, size: st.size };
}

/** Resolves the folders of in-root path `p` inside `root` (chroot semantics: ".." stops at ROOT). */
export function resolveInRoot(root: string, p: string, cache?: Map<string, string>): string {
  const dir = path.posix.dirname(path.posix.normalize(`/${p}`));
  const base = path.posix.basename(path.posix.normalize(`/${p}`));
  const physicalDir = resolveDir(root, dir, cache);
  return base ? path.posix.join(physicalDir, base) : physicalDir;
}

function resolveDir(root: string, dir: string, cache?: Map<string, string>): string {
  const hit = cache?.get(dir);
  if (hit !== undefined) return hit;
  const parts = dir.split('/').filter(Boolean);
  let done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const here = `/${[...done, name].join('/')}`;
    const st = lstatOrNull(hostPath(root, here));
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_LINKS) throw new MorphuxError('conflict', `too many levels of symbolic links resolving ${dir} in ${root}`);
      const target = readlinkSync(hostPath(root, here));
      if (target.startsWith('/')) done = [];
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(name);
  }
  const out = `/${done.join('/')}`;
  cache?.set(dir, out);
  return out;
}

/** The real ROOT, read through the file system (synchronous: a planner's few thousand lstats). */
export class RootDisk implements Disk {
  private readonly cache = new Map<string, string>();
  constructor(readonly root: string) {}
  resolve(p: string): string {
    return resolveInRoot(this.root, p, this.cache);
  }
  lstat(p: string): DiskEntry | null {
    return entryOf(lstatOrNull(hostPath(this.root, p)));
  }
  sha256(p: string): string | null {
    try {
      return sha256FileSync(hostPath(this.root, p));
    } catch {
      return null;
    }
  }
  readlink(p: string): string | null {
    try {
      return readlinkSync(hostPath(this.root, p));
    } catch {
      return null;
    }
  }
}
