// Packs the install's upper layer into the binaries archive: a tar.gz with paths relative to /
// (usr/bin/hello), owners and modes kept, hard links as links. An empty install gives an empty archive.
import { readdir, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { create } from 'tar';

export async function packBinaries(upperDir: string, dest: string): Promise<void> {
  const top = (await readdir(upperDir)).sort();
  if (top.length === 0) {
    await writeFile(dest, gzipSync(Buffer.alloc(1024)));
    return;
  }
  await create({ gzip: true, file: dest, cwd: upperDir, portable: false, noMtime: false }, top);
}
