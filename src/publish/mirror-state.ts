// The durable outbox state of one mirror (DATA/publish/mirrors/<name>.json, written atomically):
// which artifact files are confirmed on it, the failures with their back-off, and the last index
// it holds. What is pending is derived: catalog entries not confirmed here. Re-running is safe.
import { readFile } from 'node:fs/promises';
import { isMorphuxError } from '../domain/errors.js';
import { atomicWriteJson } from '../lib/atomic-write.js';

export interface Failure {
  count: number;
  /** the MorphuxError code of the last failure (tls_untrusted, digest_mismatch, …), when it had one */
  code?: string;
  last_error: string;
  last_at: string;
  /** no automatic retry before this time */
  next_at: string;
}

export interface MirrorState {
  mirror: string;
  /** remote path → what was confirmed there */
  uploaded: Record<string, { sha256: string; size: number; at: string }>;
  /** remote path (or "index.json") → its failures since the last success */
  failures: Record<string, Failure>;
  index: { sequence: number; digest: string; uploaded_at: string; valid_until: string; artifacts: number } | null;
}

export async function readMirrorState(file: string, mirror: string): Promise<MirrorState> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as MirrorState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { mirror, uploaded: {}, failures: {}, index: null };
    throw e;
  }
}

export const writeMirrorState = (file: string, s: MirrorState) => atomicWriteJson(file, s);

/** Exponential back-off: base × 2^(count−1), at most max. */
export function recordFailure(s: MirrorState, what: string, err: unknown, now: Date, o: { base: number; max: number }): Failure {
  const count = (s.failures[what]?.count ?? 0) + 1;
  const delay = Math.min(o.max, o.base * 2 ** Math.min(count - 1, 30));
  const f: Failure = {
    count,
    ...(isMorphuxError(err) ? { code: err.code } : {}),
    last_error: ((err as Error)?.message ?? String(err)).split('\n')[0].slice(0, 500),
    last_at: now.toISOString(),
    next_at: new Date(now.getTime() + delay * 1000).toISOString(),
  };
  s.failures[what] = f;
  return f;
}

export function isBackingOff(s: MirrorState, what: string, now: Date): boolean {
  const f = s.failures[what];
  return !!f && Date.parse(f.next_at) > now.getTime();
}
