// What GET /pkg/<pkgid> serves, remembered per pkgid: the portpkg.tgz's path, size and response
// headers (from submission_info.json), and the bytes of small files in a cache bounded by total
// size. A portpkg never changes once written, so an entry stays good while a stat of the file
// shows the same inode, size and mtime, checked at most once a second per entry (a store rolled
// back or re-synced makes the entry be read again). A download in the steady state touches no
// file: no JSON read and parse, no stat, no open.
import { readFile, stat } from 'node:fs/promises';
import type { Store } from '../store/tree/store.js';
import { storePaths } from '../store/layout/store-paths.js';
import type { SubmissionInfo } from '../domain/submission.js';

export interface PkgFile {
  file: string;
  size: number;
  etag: string;
  /** headers of a 200 (Content-Length included) and of a 304 */
  headers: Record<string, string>;
  headers304: Record<string, string>;
  /** the whole file when it is small enough to keep in memory, else null (stream it) */
  bytes: Uint8Array<ArrayBuffer> | null;
}

interface Entry extends PkgFile {
  ino: number;
  mtimeMs: number;
  checkedAt: number;
}

const MAX_ENTRIES = 50_000;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_CACHED_BYTES = 32 * 1024 * 1024;
const RECHECK_MS = 1000;

/** Does an If-None-Match header name this ETag (or `*`)? Then the answer is a 304. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*');
}

export class PkgFileCache {
  private readonly entries = new Map<number, Entry>(); // insertion order = least recently used first
  private bytesHeld = 0;

  constructor(private readonly store: Store) {}

  /** The file of a submission, null when there is none. */
  async get(pkgid: number): Promise<PkgFile | null> {
    const now = Date.now();
    const hit = this.entries.get(pkgid);
    if (hit && now - hit.checkedAt < RECHECK_MS) return this.touch(pkgid, hit);
    const file = this.store.abs(storePaths.portpkgTgz(pkgid));
    let st;
    try {
      st = await stat(file);
    } catch {
      this.drop(pkgid);
      return null;
    }
    if (hit && hit.ino === st.ino && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
      hit.checkedAt = now;
      return this.touch(pkgid, hit);
    }
    this.drop(pkgid);
    const info = await this.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) return null;
    const bytes = st.size <= MAX_FILE_BYTES ? (await readFile(file)) as Uint8Array<ArrayBuffer> : null;
    if (bytes && bytes.length !== st.size) return this.get(pkgid); // replaced while we read: again
    const etag = `"${info.sha256}"`;
    const headers304 = {
      'Content-Type': 'application/gzip',
      ETag: etag,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Content-Disposition': `attachment; filename="${info.name}-${info.version}-${pkgid}.tgz"`,
    };
    const entry: Entry = {
      file, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs, checkedAt: now, bytes, etag,
      headers: { ...headers304, 'Content-Length': String(st.size) }, headers304,
    };
    this.entries.set(pkgid, entry);
    this.bytesHeld += bytes?.length ?? 0;
    this.evict();
    return entry;
  }

  /** Marks an entry most recently used (a Map keeps insertion order). */
  private touch(pkgid: number, e: Entry): Entry {
    this.entries.delete(pkgid);
    this.entries.set(pkgid, e);
    return e;
  }

  private drop(pkgid: number): void {
    const e = this.entries.get(pkgid);
    if (!e) return;
    this.bytesHeld -= e.bytes?.length ?? 0;
    this.entries.delete(pkgid);
  }

  private evict(): void {
    for (const [pkgid] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.bytesHeld <= MAX_CACHED_BYTES) return;
      this.drop(pkgid);
    }
  }
}
