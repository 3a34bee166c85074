// Packs the install's upper layer into the binaries archive: a tar.gz with paths relative to /
// (usr/bin/hello), modes kept, hard links as links. The system's caches and the directories they
// alone filled are left out (domain/system-caches.ts), as in the manifest. An empty install (or
// one of caches only) gives an empty archive. Deterministic, so that two builds of the same files
// give the same bytes: entries in sorted order, mtimes clamped to SOURCE_DATE_EPOCH (when given),
// owner and group 0 without names, no atime, ctime, device or inode, gzip without a timestamp.
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { create } from 'tar';
import { shippedPaths } from '../../domain/system-caches.js';
import { walkUpper } from './measure-install.js';

/** What node-tar's onWriteEntry lets us set before an entry's header is written. */
interface WritableEntry {
  stat: { uid: number; gid: number; mtime: Date; atime: Date; ctime: Date; dev: number; ino: number; nlink: number };
  mtime?: Date;
  myuser: string;
}

export async function packBinaries(upperDir: string, dest: string, sourceDateEpoch?: number): Promise<void> {
  const shipped = shippedPaths(await walkUpper(upperDir));
  // tar names entries relative to cwd (usr, usr/bin, usr/bin/hello); each parent sorts before its content
  const entries = [...shipped].map((p) => p.slice(1)).sort();
  if (entries.length === 0) {
    await writeFile(dest, gzipSync(Buffer.alloc(1024)));
    return;
  }
  const clampMs = sourceDateEpoch === undefined ? null : sourceDateEpoch * 1000;
  const onWriteEntry = (e: unknown) => {
    const w = e as WritableEntry;
    // whole seconds (a pax header would carry the fraction), never later than SOURCE_DATE_EPOCH
    let ms = Math.floor(w.stat.mtime.getTime() / 1000) * 1000;
    if (clampMs !== null && ms > clampMs) ms = clampMs;
    const t = new Date(ms);
    w.mtime = t;
    w.stat.mtime = t;
    w.stat.atime = t;
    w.stat.ctime = t;
    w.stat.uid = 0;
    w.stat.gid = 0;
    w.stat.dev = 0;
    w.stat.ino = 0;
    w.stat.nlink = 1;
    w.myuser = '';
  };
  await create({
    gzip: true, file: dest, cwd: upperDir, portable: false, noMtime: false, noDirRecurse: true,
    onWriteEntry: onWriteEntry as never,
  }, entries);
}
