// Durable file writes for mpm (its own, so mpm needs no server code): a temp file beside the
// target, fsync, rename, fsync of the folder; plus fsync of folders and sha256 of a file.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** The temp name an atomic write of `file` goes through (".<base>.<hex>.tmp" in the same folder). */
export const tempNameFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
export const isTempName = (name: string) => /^\..+\.[0-9a-f]{12}\.tmp$/.test(name);

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `file` atomically and durably: a reader sees the old bytes or the new ones. */
export async function writeDurable(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = tempNameFor(file);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(file));
}

/** The sha256 (hex) of a regular file's bytes. */
export function sha256FileSync(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
