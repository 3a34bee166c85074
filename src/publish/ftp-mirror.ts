// One FTP(S) mirror through basic-ftp: connect and log in (FTPS trusting the system's CAs and
// ca_file), and the upload that never shows a partial or wrong file under its final name (write
// <dir>/.<file>.part, resume it with APPE when a previous try left part of it, check its size and,
// with verify: sha256, its hash: the server's HASH/XSHA256 when FEAT offers it, else read back;
// then rename); and removing a file (only the manifests once published in clear: push-mirror.ts).
// Paths are absolute on the server.
import { Client } from 'basic-ftp';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MorphuxError } from '../domain/errors.js';
import { trustedCas, untrustedCertificate } from '../domain/tls-trust.js';

export interface MirrorConfig {
  name: string;
  url: string;
  user: string;
  password_file: string | null;
  dir: string;
  tls_verify: boolean;
  ca_file: string | null;
  verify: 'sha256' | 'size';
}

/** What a file on the mirror must be: its size and the sha256 of its bytes. */
export interface Expected {
  size: number;
  sha256: string;
}

type HashCommand = 'HASH' | 'XSHA256' | 'read-back';

/**
 * The sha256 in a reply to HASH (draft-bryan-ftpext-hash: `213 SHA-256 0-49 <hex> <file>`) or
 * XSHA256 (`250 <hex>`), or null when the reply names no SHA-256 of the whole file.
 */
export function parseHashReply(command: 'HASH' | 'XSHA256', message: string, size: number): string | null {
  const line = message.split('\n').map((l) => l.trim()).find((l) => /^2\d\d[ -]/.test(l)) ?? '';
  if (command === 'XSHA256') return /^2\d\d[ -]([0-9a-fA-F]{64})\b/.exec(line)?.[1].toLowerCase() ?? null;
  const m = /^2\d\d[ -](\S+) (\d+)-(\d+) ([0-9a-fA-F]{64})\b/.exec(line);
  if (!m || m[1].toUpperCase() !== 'SHA-256' || Number(m[2]) !== 0) return null;
  // the end of the range is the last byte (inclusive) in the draft; some servers give the size
  if (size > 0 && Number(m[3]) !== size - 1 && Number(m[3]) !== size) return null;
  return m[4].toLowerCase();
}

export class FtpMirror {
  private client: Client | null = null;
  /** how this server's files are hashed, decided once per connection from FEAT */
  private hashCommand: HashCommand | null = null;
  constructor(readonly cfg: MirrorConfig, private readonly timeoutMs = 30_000) {}

  async connect(): Promise<void> {
    const u = new URL(this.cfg.url);
    const secure = u.protocol === 'ftps:';
    const password = this.cfg.password_file ? (await readFile(this.cfg.password_file, 'utf8')).split('\n')[0] : 'morphux@';
    const ca = secure && this.cfg.ca_file ? trustedCas(await readFile(this.cfg.ca_file, 'utf8')) : undefined;
    const client = new Client(this.timeoutMs);
    try {
      await client.access({
        host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 21, user: this.cfg.user, password,
        secure, secureOptions: secure ? { rejectUnauthorized: this.cfg.tls_verify, ca } : undefined,
      });
    } catch (e) {
      client.close();
      throw untrustedCertificate(e, `mirror ${this.cfg.name}`, 'set ca_file on the mirror to the PEM of the CA that signed it (or tls_verify: false)')
        ?? new MorphuxError('infrastructure', `mirror ${this.cfg.name}: cannot log in: ${(e as Error).message}`);
    }
    this.client = client;
    this.hashCommand = null;
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

  /** Removes a remote file; one already gone is no error. */
  async remove(remote: string): Promise<void> {
    try {
      await this.c.remove(remote);
    } catch (e) {
      if ((e as { code?: number }).code === 550 && (await this.size(remote)) === null) return;
      throw e;
    }
  }

  async download(remote: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.c.downloadTo(new Writable({ write(chunk, _enc, cb) { chunks.push(chunk as Buffer); cb(); } }), remote);
    return Buffer.concat(chunks);
  }

  /** The sha256 of a remote file: by the server when it offers HASH or XSHA256, else read back. */
  async sha256(remote: string, size: number): Promise<{ sha256: string; by: HashCommand }> {
    const c = this.c;
    if (this.hashCommand === null) {
      const feat = await c.features().catch(() => new Map<string, string>());
      if (/(^|;)SHA-256\*?(;|$)/i.test(feat.get('HASH') ?? '') && (await c.sendIgnoringError('OPTS HASH SHA-256')).code === 200) this.hashCommand = 'HASH';
      else if (feat.has('XSHA256')) this.hashCommand = 'XSHA256';
      else this.hashCommand = 'read-back';
    }
    if (this.hashCommand !== 'read-back') {
      const by = this.hashCommand;
      const r = await c.sendIgnoringError(`${by} ${remote}`);
      const sha256 = r.code >= 200 && r.code < 300 ? parseHashReply(by, r.message, size) : null;
      if (sha256) return { sha256, by };
    }
    const h = createHash('sha256');
    await c.downloadTo(new Writable({ write(chunk, _enc, cb) { h.update(chunk as Buffer); cb(); } }), remote);
    return { sha256: h.digest('hex'), by: 'read-back' };
  }

  /** Checks a remote file against what it must be: its size, and with verify: sha256 its hash. */
  async check(remote: string, want: Expected): Promise<void> {
    const got = await this.size(remote);
    if (got !== want.size) {
      throw new MorphuxError('digest_mismatch', `mirror ${this.cfg.name}: ${remote} has ${got ?? 'no'} bytes, not ${want.size}`, { path: remote });
    }
    if (this.cfg.verify !== 'sha256') return;
    const h = await this.sha256(remote, want.size);
    if (h.sha256 !== want.sha256) {
      throw new MorphuxError('digest_mismatch', `mirror ${this.cfg.name}: ${remote} has sha256 ${h.sha256} (${h.by}), not ${want.sha256}`, { path: remote, by: h.by });
    }
  }

  /**
   * Puts a local file at `remote`. An existing final file of the right size (and hash) is taken as
   * done (names are by hash); with `replace`, the final file is swapped by the rename (the index).
   * The temporary file is checked before the rename; one that fails the check is removed (the next
   * try uploads it whole) and the error is digest_mismatch.
   * Returns how the bytes went up: skipped, resumed from an offset, or uploaded whole.
   */
  async put(local: string, remote: string, want: Expected, opts: { replace?: boolean } = {}): Promise<{ how: 'skipped' | 'resumed' | 'uploaded'; from: number }> {
    const c = this.c;
    const size = want.size;
    if (!opts.replace) {
      const have = await this.size(remote);
      if (have !== null) {
        try {
          await this.check(remote, want);
        } catch (e) {
          throw new MorphuxError('conflict', `${(e as Error).message}; published files are never replaced`, { path: remote });
        }
        return { how: 'skipped', from: size };
      }
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
    try {
      await this.check(part, want);
    } catch (e) {
      if ((e as MorphuxError).code === 'digest_mismatch') await c.remove(part, true);
      throw e;
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
