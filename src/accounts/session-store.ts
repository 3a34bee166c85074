// The website's sessions, kept on the server: DATA/state/sessions/<sha256 of the session id>.json
// {user, token_sha256, csrf, created_at, expires_at}, written atomically. The browser holds only the
// random id, so signing out ends the session for every copy of the cookie. A session names the
// token it was made with; whoever checks it also checks that token (revoked or expired: over).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteJson, readJsonFile } from '../lib/atomic-write.js';

export interface SessionRecord {
  user: string;
  token_sha256: string;
  csrf: string;
  created_at: string;
  expires_at: string;
}

const ID = /^[A-Za-z0-9_-]{43}$/;
/** a session lasts 14 days at most, and never past its token's expiry */
export const SESSION_LIFETIME_MS = 14 * 24 * 3600 * 1000;
const MAX_CACHED = 10_000;

export class SessionStore {
  private readonly cache = new Map<string, SessionRecord>();

  constructor(private readonly dir: string) {}

  private file(id: string): string | null {
    return ID.test(id) ? path.join(this.dir, `${createHash('sha256').update(id).digest('hex')}.json`) : null;
  }

  async create(user: string, token: { sha256: string; expires_at?: string }): Promise<{ id: string; record: SessionRecord }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = randomBytes(32).toString('base64url');
    let ends = Date.now() + SESSION_LIFETIME_MS;
    if (token.expires_at) ends = Math.min(ends, Date.parse(token.expires_at));
    const record: SessionRecord = {
      user, token_sha256: token.sha256, csrf: randomBytes(16).toString('hex'),
      created_at: new Date().toISOString(), expires_at: new Date(ends).toISOString(),
    };
    await atomicWriteJson(this.file(id)!, record, 0o600);
    return { id, record };
  }

  /** The live session of an id, or null (unknown, ended or past its time). */
  async get(id: string): Promise<SessionRecord | null> {
    const f = this.file(id);
    if (!f) return null;
    let r = this.cache.get(f) ?? null;
    if (!r) {
      r = await readJsonFile<SessionRecord>(f);
      if (r && this.cache.size < MAX_CACHED) this.cache.set(f, r);
    }
    if (!r || !(Date.parse(r.expires_at) > Date.now())) return null;
    return r;
  }

  async end(id: string): Promise<void> {
    const f = this.file(id);
    if (!f) return;
    this.cache.delete(f);
    await rm(f, { force: true });
  }

  /** Removes the files of sessions past their time (at start). */
  async sweep(): Promise<number> {
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let n = 0;
    for (const name of names.filter((x) => x.endsWith('.json'))) {
      const f = path.join(this.dir, name);
      const r = await readJsonFile<SessionRecord>(f).catch(() => null);
      if (!r || !(Date.parse(r.expires_at) > Date.now())) {
        await rm(f, { force: true });
        n++;
      }
    }
    return n;
  }
}
