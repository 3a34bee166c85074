// Users and their tokens: one small JSON file per user under DATA/users/, created with O_EXCL and
// rewritten atomically. Any process may write (the `morphux user` commands while the server
// runs); readers reload when a token is unknown or a user's file changed, so the server sees
// changes at once. Only token hashes are stored.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkUserName } from '../domain/names.js';
import { hashToken, newToken, sameHash } from './tokens.js';

export interface TokenRecord {
  id: string;
  name: string;
  sha256: string;
  created_at: string;
}

export interface User {
  name: string;
  admin: boolean;
  created_at: string;
  tokens: TokenRecord[];
}

export interface Principal {
  name: string;
  admin: boolean;
}

interface Cached {
  user: User;
  mtimeMs: number;
}

export class UserStore {
  private byName = new Map<string, Cached>();
  private byHash = new Map<string, string>(); // token sha256 -> user name
  private lastScan = 0;

  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, `${checkUserName(name)}.json`);
  }

  async create(name: string, admin: boolean, tokenName = 'default'): Promise<{ user: User; token: string }> {
    checkUserName(name);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const token = newToken();
    const user: User = {
      name,
      admin,
      created_at: new Date().toISOString(),
      tokens: [{ id: randomBytes(6).toString('hex'), name: tokenName, sha256: hashToken(token), created_at: new Date().toISOString() }],
    };
    try {
      await writeFile(this.file(name), JSON.stringify(user, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new MorphuxError('already_exists', `user ${name} already exists`, { name });
      throw e;
    }
    this.remember(user, 0);
    return { user, token };
  }

  private remember(user: User, mtimeMs: number): void {
    const old = this.byName.get(user.name);
    for (const t of old?.user.tokens ?? []) this.byHash.delete(t.sha256);
    this.byName.set(user.name, { user, mtimeMs });
    for (const t of user.tokens) this.byHash.set(t.sha256, user.name);
  }

  private async load(name: string): Promise<User | null> {
    const f = this.file(name);
    let st;
    try {
      st = await stat(f);
    } catch {
      const old = this.byName.get(name);
      for (const t of old?.user.tokens ?? []) this.byHash.delete(t.sha256);
      this.byName.delete(name);
      return null;
    }
    const cached = this.byName.get(name);
    if (cached && cached.mtimeMs === st.mtimeMs) return cached.user;
    const user = JSON.parse(await readFile(f, 'utf8')) as User;
    this.remember(user, st.mtimeMs);
    return user;
  }

  async get(name: string): Promise<User | null> {
    try {
      checkUserName(name);
    } catch {
      return null;
    }
    return this.load(name);
  }

  /** Re-reads every user file (at most every 200 ms: a flood of unknown tokens costs little). */
  private async rescan(): Promise<void> {
    if (Date.now() - this.lastScan < 200) return;
    this.lastScan = Date.now();
    let names: string[] = [];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch {
      return;
    }
    for (const n of names) await this.load(n).catch(() => null);
  }

  /** The user a bearer token belongs to, or null. */
  async authenticate(token: string): Promise<Principal | null> {
    if (typeof token !== 'string' || token.length < 10 || token.length > 200) return null;
    const h = hashToken(token);
    let name = this.byHash.get(h);
    if (!name) {
      await this.rescan();
      name = this.byHash.get(h);
    }
    if (!name) return null;
    const user = await this.load(name); // picks up a revocation made by another process
    const rec = user?.tokens.find((t) => sameHash(t.sha256, h));
    return user && rec ? { name: user.name, admin: user.admin } : null;
  }

  /** HTTP basic auth: the user name must be the token's owner. */
  async authenticateBasic(name: string, token: string): Promise<Principal | null> {
    const p = await this.authenticate(token);
    return p && p.name === name ? p : null;
  }
}
