// Reads the guest's one tar stream from the raw result disk (it ends at the tar end marker; the
// zeros after it are never read) into destDir: meta/result.json, meta/build.log, meta/existed, u2/.
// Anything missing or malformed is the machinery's fault: MorphuxError `infrastructure`.
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Unpack, type ReadEntry } from 'tar';
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { EXCLUDED_DIRS } from './guest-run-script.js';

const phaseResult = z.object({ status: z.number().int(), failed_step: z.number().int(), seconds: z.number() }).nullable();
const guestResult = z.object({
  version: z.literal(1),
  arch: z.string(),
  error: z.string().nullable(),
  boot_uptime: z.number(),
  /** the guest's uptime when a restored VM got its hand-in line (vm-snapshot.ts); null after a cold boot */
  go_uptime: z.number().nullable().optional(),
  deps: z.object({ status: z.number().int() }),
  build: phaseResult,
  install: phaseResult,
  end_uptime: z.number(),
});
export type GuestResult = z.infer<typeof guestResult>;

export interface ResultContents {
  result: GuestResult;
  /** host path of the guest's build log */
  buildLog: string;
  /** host copy of the install's upper layer (excluded dirs and whiteouts already dropped) */
  upperDir: string;
  /** absolute paths in the upper layer that existed in the lower layers (base + deps + build) */
  existed: Set<string>;
}

const KEPT_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Whether a tar entry of the result stream is extracted: meta/* and u2/* outside the excluded dirs. */
export function keepResultEntry(p: string, type: string, linkpath?: string): boolean {
  const rel = p.replace(/^\.\//, '').replace(/\/+$/, '');
  if (!KEPT_TYPES.has(type)) return false;
  const inU2 = (q: string) => q === 'u2' || q.startsWith('u2/');
  const excluded = (q: string) => EXCLUDED_DIRS.some((d) => q === `u2/${d}` || q.startsWith(`u2/${d}/`));
  if (type === 'Link' && linkpath !== undefined && (!inU2(linkpath) || excluded(linkpath))) return false;
  return rel === 'meta' || rel.startsWith('meta/') || (inU2(rel) && !excluded(rel));
}

async function unpackUntilEof(resultImg: string, destDir: string): Promise<void> {
  const fh = await open(resultImg, 'r');
  try {
    await new Promise<void>((resolve, reject) => {
      let eof = false;
      // node-tar creates files and folders through the process umask (022): a group-writable file
      // or folder the guest wrote (0664, 0775) would read as 0644, 0755. Each kept entry's mode is
      // set again once all is extracted (files first, then folders deepest first).
      const modes = new Map<string, { mode: number; dir: boolean }>();
      const u = new Unpack({
        cwd: destDir, chmod: true, processUmask: 0,
        filter: (p: string, e: unknown) => {
          const entry = e as ReadEntry;
          const keep = keepResultEntry(p, entry.type, entry.linkpath);
          if (keep && !path.isAbsolute(p) && !p.split('/').includes('..') && (entry.type === 'Directory' || entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') && typeof entry.mode === 'number') {
            modes.set(path.join(destDir, p.replace(/\/+$/, '')), { mode: entry.mode & 0o7777, dir: entry.type === 'Directory' });
          }
          return keep;
        },
      });
      u.on('eof', () => { eof = true; });
      u.on('error', (e: Error) => reject(new MorphuxError('infrastructure', `the result tar is malformed: ${e.message}`)));
      u.on('close', () => {
        const order = [...modes].sort(([a, x], [b, y]) => Number(x.dir) - Number(y.dir) || b.length - a.length);
        (async () => {
          const root = `${await realpath(destDir)}/`;
          for (const [p, { mode, dir }] of order) {
            // only what was extracted as that entry, never through a link (the tar comes from the guest)
            const st = await lstat(p).catch(() => null);
            if (!st || st.isSymbolicLink() || st.isDirectory() !== dir) continue;
            if (!(await realpath(p).catch(() => '')).startsWith(root)) continue;
            await chmod(p, mode).catch(() => undefined);
          }
        })().then(resolve, reject);
      });
      // reads grow from 64 KiB to 1 MiB: a small result (hello's is 23 KiB) is one read, not a
      // MiB of zeros copied and parsed after it (~8 ms of every build here); a large one is still
      // read in big chunks
      let size = 64 * 1024;
      let pos = 0;
      const pump = async (): Promise<void> => {
        while (!eof) {
          const buf = Buffer.allocUnsafe(size);
          const { bytesRead } = await fh.read(buf, 0, size, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          size = Math.min(size * 2, 1024 * 1024);
          if (!u.write(buf.subarray(0, bytesRead))) await new Promise((r) => u.once('drain', r));
        }
        u.end();
      };
      pump().catch(reject);
    });
  } finally {
    await fh.close();
  }
}

export async function readResult(resultImg: string, destDir: string): Promise<ResultContents> {
  await mkdir(destDir, { recursive: true });
  await unpackUntilEof(resultImg, destDir);
  const jsonFile = path.join(destDir, 'meta/result.json');
  if (!existsSync(jsonFile)) throw new MorphuxError('infrastructure', 'the VM wrote no result');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(jsonFile, 'utf8'));
  } catch (e) {
    throw new MorphuxError('infrastructure', `the VM's result.json is not JSON: ${(e as Error).message}`);
  }
  const r = guestResult.safeParse(parsed);
  if (!r.success) throw new MorphuxError('infrastructure', `the VM's result.json is invalid: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
  const existedFile = path.join(destDir, 'meta/existed');
  const existed = new Set(existsSync(existedFile) ? (await readFile(existedFile, 'utf8')).split('\n').filter((l) => l.startsWith('/')) : []);
  const upperDir = path.join(destDir, 'u2');
  await mkdir(upperDir, { recursive: true });
  return { result: r.data, buildLog: path.join(destDir, 'meta/build.log'), upperDir, existed };
}
