// Users and their tokens: one small JSON file per user under DATA/users/, created with O_EXCL and
// rewritten atomically. Any process may write (the `morphux user` commands while the server
// runs); readers reload when a token is unknown or a user's file changed, so the server sees
// changes at once. Only token hashes are stored. A worker account (`worker: true`) is a build
// machine's identity: its tokens are accepted by the internal worker API and nowhere else.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { atomicWriteJson } from '../lib/atomic-write.js';
import { AsyncMutex } from '../lib/async-mutex.js';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkTokenName, checkUserName } from '../domain/names.js';
import { hashToken, newToken, sameHash } from './tokens.js';
import type { Principal } from '../domain/principal.js';

export interface TokenRecord {
  id: string;
  name: string;
  sha256: string;
  created_at: string;
  /** after this time (ISO 8601 UTC) the token is refused like a revoked one; absent: never */
  expires_at?: string;
}

export interface User {
  name: string;
  admin: boolean;
  /** a build worker's account: its tokens open /internal/worker/* only (absent: false) */
  worker?: boolean;
  created_at: string;
  tokens: TokenRecord[];
}

const MAX_TOKENS = 100;

interface Cached {
  user: User;
  mtimeMs: number;
}

export class UserStore {
  private byName = new Map<string, Cached>();
  private byHash = new Map<string, string>(); // token sha256 -> user name
  private lastScan = 0;
  private lastDirMtime = -1;
  private readonly writing = new AsyncMutex();

  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, `${checkUserName(name)}.json`);
  }

  async create(name: string, admin: boolean, tokenName = 'default'): Promise<{ user: User; token: string }> {
    return this.createAccount(name, { admin }, tokenName);
  }

  /** A build worker's account (`morphux user add NAME --worker`): never an admin, never a maintainer. */
  async createWorker(name: string, tokenName = 'default'): Promise<{ user: User; token: string }> {
    return this.createAccount(name, { admin: false, worker: true }, tokenName);
  }

  private async createAccount(name: string, role: Pick<User, 'admin' | 'worker'>, tokenName: string): Promise<{ user: User; token: string }> {
    checkUserName(name);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const token = newToken();
    const user: User = {
      name,
      ...role,
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
      st = statSync(f); // on every authenticated request: microseconds here, a threadpool trip async
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

  /** Tokens of a user, without their hashes. */
  async listTokens(name: string): Promise<Array<Omit<TokenRecord, 'sha256'>>> {
    const user = await this.get(name);
    if (!user) throw new MorphuxError('not_found', `no user ${name}`, { user: name });
    return user.tokens.map(({ sha256: _, ...t }) => t);
  }

  /** A new named token for a user (names unique per user); the token is returned once. */
  async addToken(name: string, tokenName: string, expiresAt?: Date): Promise<{ token: string; record: Omit<TokenRecord, 'sha256'> }> {
    checkTokenName(tokenName);
    return this.writing.run(async () => {
      const user = await this.get(name);
      if (!user) throw new MorphuxError('not_found', `no user ${name}`, { user: name });
      if (user.tokens.some((t) => t.name === tokenName)) throw new MorphuxError('already_exists', `${name} already has a token named ${tokenName}`, { token: tokenName });
      if (user.tokens.length >= MAX_TOKENS) throw new MorphuxError('conflict', `a user has at most ${MAX_TOKENS} tokens`);
      const token = newToken();
      const rec: TokenRecord = { id: randomBytes(6).toString('hex'), name: tokenName, sha256: hashToken(token), created_at: new Date().toISOString() };
      if (expiresAt) rec.expires_at = expiresAt.toISOString();
      await this.save({ ...user, tokens: [...user.tokens, rec] });
      const { sha256: _, ...record } = rec;
      return { token, record };
    });
  }

  /** Revokes a user's token by name or id; it stops working at once, here and in a running server. */
  async revokeToken(name: string, tokenNameOrId: string): Promise<void> {
    return this.writing.run(async () => {
      const user = await this.get(name);
      if (!user) throw new MorphuxError('not_found', `no user ${name}`, { user: name });
      const keep = user.tokens.filter((t) => t.name !== tokenNameOrId && t.id !== tokenNameOrId);
      if (keep.length === user.tokens.length) throw new MorphuxError('not_found', `${name} has no token ${tokenNameOrId}`, { token: tokenNameOrId });
      await this.save({ ...user, tokens: keep });
    });
  }

  private async save(user: User): Promise<void> {
    await atomicWriteJson(this.file(user.name), user, 0o600);
    const st = await stat(this.file(user.name));
    this.remember(user, st.mtimeMs);
  }

  /** Re-reads every user file when the folder changed (a user or token added: files are created
   *  or renamed into it), else at most every 2 s: a flood of unknown tokens costs one stat each. */
  private async rescan(): Promise<void> {
    let dirMtime = 0;
    try {
      dirMtime = (await stat(this.dir)).mtimeMs;
    } catch {
      return;
    }
    if (dirMtime === this.lastDirMtime && Date.now() - this.lastScan < 2000) return;
    this.lastScan = Date.now();
    this.lastDirMtime = dirMtime;
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
    if (!user || !rec) return null;
    return this.principalOf(user, rec);
  }

  /** The principal of a user's token by its hash (a web session's), or null when revoked or expired. */
  async byTokenHash(name: string, sha256: string): Promise<Principal | null> {
    const user = await this.get(name);
    const rec = user?.tokens.find((t) => sameHash(t.sha256, sha256));
    return user && rec ? this.principalOf(user, rec) : null;
  }

  private principalOf(user: User, rec: TokenRecord): Principal | null {
    if (rec.expires_at !== undefined && !(Date.parse(rec.expires_at) > Date.now())) return null; // expired
    const token = { id: rec.id, name: rec.name, sha256: rec.sha256, ...(rec.expires_at ? { expires_at: rec.expires_at } : {}) };
    return user.worker ? { name: user.name, admin: false, worker: true, token } : { name: user.name, admin: user.admin, token };
  }

  /** HTTP basic auth: the user name must be the token's owner. */
  async authenticateBasic(name: string, token: string): Promise<Principal | null> {
    const p = await this.authenticate(token);
    return p && p.name === name ? p : null;
  }
}
