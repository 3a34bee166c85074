// One FTP(S) mirror through basic-ftp: connect and log in, and the upload that never shows a
// partial file under its final name (write <dir>/.<file>.part, resume it with APPE when a
// previous try left part of it, check its size, then rename). Paths are absolute on the server.
import { Client } from 'basic-ftp';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MorphuxError } from '../domain/errors.js';

export interface MirrorConfig {
  name: string;
  url: string;
  user: string;
  password_file: string | null;
  dir: string;
  tls_verify: boolean;
}

export class FtpMirror {
  private client: Client | null = null;
  constructor(readonly cfg: MirrorConfig, private readonly timeoutMs = 30_000) {}

  async connect(): Promise<void> {
    const u = new URL(this.cfg.url);
    const secure = u.protocol === 'ftps:';
    const password = this.cfg.password_file ? (await readFile(this.cfg.password_file, 'utf8')).split('\n')[0] : 'morphux@';
    const client = new Client(this.timeoutMs);
    try {
      await client.access({
        host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 21, user: this.cfg.user, password,
        secure, secureOptions: secure ? { rejectUnauthorized: this.cfg.tls_verify } : undefined,
      });
    } catch (e) {
      client.close();
      throw new MorphuxError('infrastructure', `mirror ${this.cfg.name}: cannot log in: ${(e as Error).message}`);
    }
    this.client = client;
  }

  private get c(): Client {
    if (!this.client || this.client.closed) throw new MorphuxError('infrastructure', `mirror ${this.cfg.name}: not connected`);
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }

  /** Size of a remote file, or null when there is none. */
  async size(remote: string): Promise<number | null> {
    try {
      return await this.c.size(remote);
    } catch (e) {
      if ((e as { code?: number }).code === 550) return null;
      throw e;
    }
  }

  async download(remote: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.c.downloadTo(new Writable({ write(chunk, _enc, cb) { chunks.push(chunk as Buffer); cb(); } }), remote);
    return Buffer.concat(chunks);
  }

  /**
   * Puts a local file at `remote`. An existing final file of the right size is taken as done
   * (names are by hash); with `replace`, the final file is swapped by the rename (the index).
   * Returns how the bytes went up: skipped, resumed from an offset, or uploaded whole.
   */
  async put(local: string, remote: string, size: number, opts: { replace?: boolean } = {}): Promise<{ how: 'skipped' | 'resumed' | 'uploaded'; from: number }> {
    const c = this.c;
    if (!opts.replace) {
      const have = await this.size(remote);
      if (have === size) return { how: 'skipped', from: size };
      if (have !== null) throw new MorphuxError('conflict', `mirror ${this.cfg.name}: ${remote} exists with ${have} bytes, not ${size}; published files are never replaced`);
    }
    const dir = path.posix.dirname(remote);
    const part = path.posix.join(dir, `.${path.posix.basename(remote)}.part`);
    await c.ensureDir(dir);
    await c.cd('/');
    const partial = opts.replace ? null : await this.size(part);
    let how: 'resumed' | 'uploaded' = 'uploaded';
    let from = 0;
    if (partial !== null && partial > 0 && partial < size) {
      how = 'resumed';
      from = partial;
      await c.appendFrom(local, part, { localStart: partial });
    } else if (partial !== size) {
      await c.uploadFrom(local, part);
    }
    const got = await this.size(part);
    if (got !== size) {
      await c.remove(part, true);
      throw new MorphuxError('infrastructure', `mirror ${this.cfg.name}: ${part} has ${got} bytes after upload, not ${size}`);
    }
    try {
      await c.rename(part, remote);
    } catch (e) {
      if (!opts.replace) throw e;
      // a server that will not rename over a file: remove, then rename (a short gap, never a partial file)
      await c.remove(remote, true);
      await c.rename(part, remote);
    }
    return { how, from };
  }
}
