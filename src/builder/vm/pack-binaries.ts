// Packs the install's upper layer into the binaries archive: a tar.gz with paths relative to /
// (usr/bin/hello), owners and modes kept, hard links as links. The system's caches and the
// directories they alone filled are left out (domain/system-caches.ts), as in the manifest. An
// empty install (or one of caches only) gives an empty archive.
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { create } from 'tar';
import { shippedPaths } from '../../domain/system-caches.js';
import { walkUpper } from './measure-install.js';

export async function packBinaries(upperDir: string, dest: string): Promise<void> {
  const shipped = shippedPaths(await walkUpper(upperDir));
  const top = [...shipped].filter((p) => p.lastIndexOf('/') === 0).map((p) => p.slice(1)).sort();
  if (top.length === 0) {
    await writeFile(dest, gzipSync(Buffer.alloc(1024)));
    return;
  }
  // tar names entries relative to cwd (usr, usr/bin, usr/bin/hello)
  const filter = (p: string) => shipped.has(`/${p.replace(/^\.\//, '').replace(/\/+$/, '')}`);
  await create({ gzip: true, file: dest, cwd: upperDir, portable: false, noMtime: false, filter }, top);
}
