// Hand-made tar archives for hostile-input tests: entries with any name, type and link target
// (what a tar library refuses to write: "../", absolute paths, devices, names that are not UTF-8;
// a name or link over 100 bytes goes in a pax header), gzip'd, and a gzip "bomb" made of many
// small gzip members that inflate to a lot of zeros.
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  /** any bytes; a Buffer for names that are not UTF-8 */
  name: string | Buffer;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' dir, '6' fifo */
  type?: string;
  body?: Buffer | string;
  link?: string | Buffer;
  /** the size the header claims (default: the body's) */
  size?: number;
}

function header(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string | Buffer, off: number, len: number) => (typeof s === 'string' ? h.write(s, off, len, 'utf8') : s.copy(h, off, 0, Math.min(len, s.length)));
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  put(e.name, 0, 100);
  oct(0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(1_700_000_000, 136, 12);
  put(e.type ?? '0', 156, 1);
  put(e.link ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** A pax record: "<length> key=value\n", the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let n = rest.length + 1;
  while (String(n).length + rest.length !== n) n++;
  return Buffer.concat([Buffer.from(String(n)), rest]);
}

/** The entry, preceded by a pax header when its name or link does not fit the 100-byte field. */
function withPax(e: RawEntry): RawEntry[] {
  const records: Buffer[] = [];
  for (const [key, v] of [['path', e.name], ['linkpath', e.link]] as const) {
    if (v !== undefined && Buffer.byteLength(v) > 100) records.push(paxRecord(key, Buffer.from(v)));
  }
  return records.length ? [{ name: 'PaxHeader', type: 'x', body: Buffer.concat(records) }, e] : [e];
}

export function rawTar(entries: RawEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries.flatMap(withPax)) {
    const body = Buffer.from(e.body ?? '');
    parts.push(header(e, e.size ?? body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const rawTgz = (entries: RawEntry[]): Buffer => gzipSync(rawTar(entries));

export const MANIFEST: RawEntry = { name: 'package.json', body: JSON.stringify({ name: 'evil', version: '1.0' }) };

/** A .tgz whose gzip stream inflates to `mib` MiB of zeros after `entries` (cheap to make). */
export function gzipBomb(entries: RawEntry[], mib: number): Buffer {
  const zeros = gzipSync(Buffer.alloc(1024 * 1024));
  return Buffer.concat([gzipSync(rawTar(entries, false)), ...Array.from({ length: mib }, () => zeros)]);
}
