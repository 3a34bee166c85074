// Safe reading of a package archive (tar.gz, paths relative to /) against its manifest: every
// entry must be a manifest entry of the same type, content and link target; no absolute paths, no
// "..", no devices or fifos, hard links only to earlier files of the package. With `stage`, files,
// symlinks and hard links are written to their staged names (files fsynced, modes set, never chowned).
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, symlinkSync, writeSync } from 'node:fs';
import * as tar from 'tar';
import { MorphuxError } from '../../domain/errors.js';
import type { FileEntry } from '../db.js';
import { churned } from '../memory.js';

const TYPES: Record<string, FileEntry['type'] | undefined> = {
  File: 'file', OldFile: 'file', ContiguousFile: 'file', Directory: 'dir', SymbolicLink: 'symlink', Link: 'hardlink',
};

const unsafe = (pkg: string, why: string) => new MorphuxError('unsafe_archive', `the archive of ${pkg} is unsafe: ${why}`, { package: pkg });

/** The in-root path of an archive entry ("usr/bin/x", "./usr/bin/x/" → "/usr/bin/x"), null for the
 *  archive's root itself; unsafe_archive for absolute paths and "..". */
export function entryPath(pkg: string, raw: string): string | null {
  if (raw.includes('\0') || raw.startsWith('/')) throw unsafe(pkg, `entry ${JSON.stringify(raw.slice(0, 200))} is an absolute path`);
  const parts = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw unsafe(pkg, `entry ${JSON.stringify(raw.slice(0, 200))} climbs with ".."`);
  return parts.length ? `/${parts.join('/')}` : null;
}

/**
 * Reads the archive `file` of package `pkg` against its manifest `entries`. `stage(i)`, when
 * given, is the host path where entry i is written. Throws unsafe_archive or digest_mismatch.
 */
export function scanArchive(file: string, pkg: string, entries: FileEntry[], stage: ((index: number) => string) | null): void {
  const want = new Map(entries.map((e, i) => [e.path, { e, i }]));
  const seen = new Set<string>();
  const fds = new Set<number>();
  try {
    tar.t({
      // read and inflated 128 KiB at a time: whole (tar's default under 16 MiB), an archive and all
      // it inflates to would be in memory at once
      file, sync: true, strict: true, maxReadSize: 128 << 10,
      onReadEntry: (entry: tar.ReadEntry) => {
        const p = entryPath(pkg, entry.path);
        const type = TYPES[entry.type];
        if (p === null) {
          if (type !== 'dir') throw unsafe(pkg, `a ${entry.type} entry at the archive's root`);
          return;
        }
        if (!type) throw unsafe(pkg, `${p} is a ${entry.type} entry (only files, folders and links install)`);
        const w = want.get(p);
        if (!w) throw unsafe(pkg, `${p} is not in the manifest`);
        if (seen.has(p)) throw unsafe(pkg, `${p} is in the archive twice`);
        seen.add(p);
        if (type !== w.e.type) throw unsafe(pkg, `${p} is a ${type} in the archive, a ${w.e.type} in the manifest`);
        const to = stage ? stage(w.i) : null;
        if (type === 'file') return readFileEntry(pkg, entry, w.e, to, fds);
        if (type === 'symlink') {
          if (entry.linkpath !== w.e.target) throw unsafe(pkg, `${p} links to ${entry.linkpath}, the manifest says ${w.e.target}`);
          if (to) symlinkSync(w.e.target!, to);
          return;
        }
        if (type === 'hardlink') {
          const target = entryPath(pkg, entry.linkpath ?? '');
          const t = target === null ? undefined : want.get(target);
          if (!t || target !== w.e.target || t.e.type !== 'file' || !seen.has(target)) throw unsafe(pkg, `${p} is a hard link to ${entry.linkpath}, not to an earlier file ${w.e.target} of the package`);
          if (to) linkSync(stage!(t.i), to);
        }
      },
    });
  } catch (e) {
    if (e instanceof MorphuxError) throw e;
    throw unsafe(pkg, `cannot read it: ${(e as Error).message}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const missing = entries.find((e) => e.type !== 'dir' && !seen.has(e.path));
  if (missing) throw unsafe(pkg, `${missing.path} is in the manifest but not in the archive`);
}

function readFileEntry(pkg: string, entry: tar.ReadEntry, e: FileEntry, to: string | null, fds: Set<number>): void {
  if (entry.size !== e.size) throw new MorphuxError('digest_mismatch', `${pkg}: ${e.path} is ${entry.size} bytes in the archive, ${e.size} in the manifest`);
  const hash = createHash('sha256');
  const fd = to ? openSync(to, 'wx', 0o600) : null;
  if (fd !== null) fds.add(fd);
  entry.on('data', (c: Buffer) => {
    hash.update(c);
    if (fd !== null) for (let off = 0; off < c.length;) off += writeSync(fd, c, off);
    churned(c.length);
  });
  entry.on('end', () => {
    const sha256 = hash.digest('hex');
    if (sha256 !== e.sha256) throw new MorphuxError('digest_mismatch', `${pkg}: ${e.path} has sha256 ${sha256} in the archive, ${e.sha256} in the manifest`);
    if (fd === null) return;
    fchmodSync(fd, e.mode);
    fsyncSync(fd);
    closeSync(fd);
    fds.delete(fd);
  });
}
