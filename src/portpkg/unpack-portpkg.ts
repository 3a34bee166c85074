// Reads and unpacks a portpkg .tgz safely: every entry is checked before anything is written
// (no absolute paths, no "..", no links leading outside, no devices or fifos, names valid UTF-8
// without control characters and of sane length, entry count and unpacked size under limits, so
// a gzip bomb stops early). Used for pushes (in pre-receive and after) and uploads alike.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MorphuxError } from '../domain/errors.js';
import { hasControlChars } from '../domain/untrusted-text.js';

export interface PortpkgLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
}

/** The limits as configured under `portpkg:` (morphux.example.yaml). */
export const portpkgLimits = (c: { max_entries: number; max_unpacked_bytes: number }): PortpkgLimits => ({ maxEntries: c.max_entries, maxUnpackedBytes: c.max_unpacked_bytes });

/** The defaults of `portpkg:` in config-schema.ts (test/unit/inspect-portpkg.test.ts holds them equal). */
export const DEFAULT_PORTPKG_LIMITS: PortpkgLimits = { maxEntries: 8192, maxUnpackedBytes: 512 * 1024 * 1024 };

/** Linux's limits on a path and on one of its names (bytes) */
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

export interface PortpkgContents {
  entries: number;
  unpackedBytes: number;
  /** the bytes of package.json at the archive's root, or null */
  manifest: Buffer | null;
}

/** tar pads an archive to its record size (10 KiB by default); more after the end is refused */
const MAX_TRAILING_BYTES = 64 * 1024;

const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

function unsafe(message: string, entry?: string): MorphuxError {
  return new MorphuxError('unsafe_archive', message, entry ? { entry } : {});
}

/** The archive path normalised (a leading "./" dropped), or an error when it leaves the root. */
function cleanPath(p: string): string {
  if (p.includes('\0')) throw unsafe('an entry name holds a NUL byte');
  checkName(p, 'an entry name');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw unsafe(`absolute path in archive: ${p}`, p);
  const n = path.posix.normalize(p).replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../') || p.split('/').includes('..')) throw unsafe(`path leaves the archive: ${p}`, p);
  if (n.split('/').some((seg) => seg.toLowerCase() === '.git')) throw unsafe(`a .git entry is not allowed in a portpkg: ${p}`, p);
  return n === '.' ? '' : n;
}

/** Names as tar decoded them: invalid UTF-8 shows as U+FFFD. */
function checkName(p: string, what: string): void {
  const shown = JSON.stringify(p.slice(0, 200));
  if (p.includes('\ufffd')) throw unsafe(`${what} is not valid UTF-8: ${shown}`, p);
  if (hasControlChars(p, false)) throw unsafe(`${what} holds a control character: ${shown}`, p);
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) throw unsafe(`${what} is over ${MAX_PATH_BYTES} bytes: ${shown}`, p);
  if (p.split('/').some((seg) => Buffer.byteLength(seg) > MAX_NAME_BYTES)) throw unsafe(`${what} has a part over ${MAX_NAME_BYTES} bytes: ${shown}`, p);
}

function checkLink(entryPath: string, target: string, hard: boolean): void {
  checkName(target, 'a link target');
  if (target.startsWith('/')) throw unsafe(`${hard ? 'hard link' : 'symlink'} ${entryPath} points to an absolute path`, entryPath);
  const base = hard ? '' : path.posix.dirname(entryPath);
  const resolved = path.posix.normalize(path.posix.join(base, target));
  if (resolved === '..' || resolved.startsWith('../')) throw unsafe(`${hard ? 'hard link' : 'symlink'} ${entryPath} leads outside the archive`, entryPath);
}

/** Checks every entry and returns what the archive holds; throws unsafe_archive / too_large. */
export async function inspectPortpkg(tgz: Buffer, limits: PortpkgLimits = DEFAULT_PORTPKG_LIMITS): Promise<PortpkgContents> {
  let entries = 0;
  let bytes = 0;
  let manifest: Buffer | null = null;
  let failure: Error | null = null;
  const fail = (e: Error) => { failure ??= e; };
  // what the tar stream may inflate to at most: the data, plus headers and padding per entry
  const maxStream = limits.maxUnpackedBytes + (limits.maxEntries + 4) * 2048 + 1024 * 1024;
  const gzipped = tgz.length >= 2 && tgz[0] === 0x1f && tgz[1] === 0x8b;
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      if (failure) return entry.resume();
      try {
        entries++;
        if (entries > limits.maxEntries) throw new MorphuxError('too_large', `archive has more than ${limits.maxEntries} entries`);
        if (!ALLOWED.has(entry.type)) throw unsafe(`entry ${entry.path} is a ${entry.type}: only files, folders and links are allowed`, entry.path);
        const p = cleanPath(entry.path);
        if (entry.type === 'SymbolicLink') checkLink(p, entry.linkpath ?? '', false);
        if (entry.type === 'Link') checkLink(p, cleanPath(entry.linkpath ?? ''), true);
        bytes += entry.size ?? 0;
        if (bytes > limits.maxUnpackedBytes) throw new MorphuxError('too_large', `archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);
        if (p === 'package.json' && entry.type !== 'Directory') {
          if (entry.type !== 'File' && entry.type !== 'OldFile') throw unsafe('package.json must be a regular file', p);
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => { manifest = Buffer.concat(chunks); });
          return;
        }
      } catch (e) {
        fail(e as Error);
      }
      entry.resume();
    },
  });
  // fed by hand, chunk by chunk, to stop inflating at the first bad entry, past the size limit,
  // or at the end of the archive (tar would buffer anything after it)
  let eof = false;
  let parseError: Error | null = null;
  parser.on('eof', () => { eof = true; });
  parser.on('error', (e: Error) => { parseError ??= e; });
  const done = new Promise<void>((resolve) => { parser.on('end', resolve); parser.on('close', resolve); parser.on('error', () => resolve()); });
  let inflated = 0;
  let trailing = 0;
  try {
    const source = gzipped ? Readable.from([tgz]).pipe(createGunzip()) : Readable.from([tgz]);
    for await (const chunk of source as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > maxStream) fail(new MorphuxError('too_large', `archive inflates to more than ${maxStream} bytes`));
      if (failure || parseError) break;
      if (eof) {
        // only padding may follow the end of the archive (a bomb of zeros would be buffered by tar)
        trailing += chunk.length;
        if (trailing > MAX_TRAILING_BYTES) fail(new MorphuxError('too_large', `over ${MAX_TRAILING_BYTES} bytes after the end of the archive`));
        continue;
      }
      parser.write(chunk);
    }
    parser.end();
    await done;
  } catch (e) {
    parseError ??= e as Error;
  }
  if (failure) throw failure;
  if (parseError) throw new MorphuxError('bad_request', `not a gzip'd tar archive: ${(parseError as Error).message}`);
  if (entries === 0) throw new MorphuxError('bad_request', 'the archive is empty');
  return { entries, unpackedBytes: bytes, manifest };
}

/** Unpacks an archive already checked by inspectPortpkg into dest (created, must be empty). */
export async function unpackPortpkg(tgz: Buffer, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await pipeline(
    Readable.from([tgz]),
    tar.x({
      cwd: dest,
      strict: true,
      preserveOwner: false,
      noMtime: false,
      // defence in depth: the same rules as inspectPortpkg
      filter: (p, entry) => {
        const type = (entry as tar.ReadEntry).type;
        if (!ALLOWED.has(type)) return false;
        cleanPath(p);
        return true;
      },
    }),
  );
}
