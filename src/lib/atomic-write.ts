// Atomic file writes: write a temp file beside the target, fsync it, rename it over the target,
// fsync the folder. A reader sees the old bytes or the new ones, never a mix. Inside a store
// transaction the fsyncs are left out (durable: false): the git commit that follows is the unit
// of durability (its objects, ref and index are fsynced), and a working-tree file a crash leaves
// torn differs from the index, so the store's open() restores it from the commit.
// Also the one reader of such JSON files: null when the file does not exist.
// The *Sync twins are for store transactions, which write a few small files per change one change
// after another: a synchronous call on the page cache takes microseconds, where a trip through
// libuv's threadpool costs 0.1–1 ms on a busy machine, and a group commit runs hundreds in a row.
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The temp file an atomic write of `file` goes through before its rename. */
const tempFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

/** Whether `name` is the temp file of an atomic write of `base` in the same folder (what a write
 *  killed before its rename leaves). */
export const isTempOf = (name: string, base: string) => name.startsWith(`.${base}.`) && isAtomicTemp(name) && name.length === base.length + 18;

/** Whether `name` is the temp file of some atomic write (".<base>.<12 hex>.tmp"). */
export const isAtomicTemp = (name: string) => /^\.[^/]+\.[0-9a-f]{12}\.tmp$/.test(name);

export interface WriteOptions {
  mode?: number;
  /** fsync the file before the rename and the folder after it (default true) */
  durable?: boolean;
}

export async function atomicWrite(file: string, data: string | Buffer, opts: WriteOptions | number = {}): Promise<void> {
  const { mode = 0o644, durable = true } = typeof opts === 'number' ? { mode: opts } : opts;
  const dir = path.dirname(file);
  const tmp = tempFor(file);
  let fh;
  try {
    fh = await open(tmp, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true }); // the folder is new: one mkdir, not one per write
    fh = await open(tmp, 'wx', mode);
  }
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
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
  if (durable) await fsyncDir(dir);
}

/** atomicWrite without the fsyncs (durable: false), synchronous: for a store transaction. */
export function atomicWriteSync(file: string, data: string | Buffer, mode = 0o644): void {
  const dir = path.dirname(file);
  const tmp = tempFor(file);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { recursive: true });
    fd = openSync(tmp, 'wx', mode);
  }
  try {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export const atomicWriteJson = (file: string, value: unknown, opts?: WriteOptions | number) =>
  atomicWrite(file, JSON.stringify(value, null, 2) + '\n', opts);

/** The parsed JSON file, or null when it does not exist (other errors are thrown). */
export async function readJsonFile<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** readJsonFile, synchronous: for a store transaction. */
export function readJsonFileSync<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
