// Reads one file of a mirror for mpm: ftp:// or ftps:// (basic-ftp, anonymous unless the URL has
// a user and password) or http(s):// (fetch). Bounded in size; errors are MorphuxErrors.
import { Client } from 'basic-ftp';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MorphuxError } from '../../domain/errors.js';

export class MirrorSource {
  private ftp: Client | null = null;
  readonly base: URL;

  constructor(url: string) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new MorphuxError('bad_request', `not a mirror URL: ${url}`);
    }
    if (!['ftp:', 'ftps:', 'http:', 'https:'].includes(u.protocol)) throw new MorphuxError('bad_request', `a mirror URL is ftp://, ftps://, http:// or https://, not ${u.protocol}`);
    this.base = u;
  }

  private async client(): Promise<Client> {
    if (this.ftp && !this.ftp.closed) return this.ftp;
    const c = new Client(30_000);
    try {
      await c.access({
        host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port ? Number(this.base.port) : 21,
        user: this.base.username ? decodeURIComponent(this.base.username) : 'anonymous',
        password: this.base.password ? decodeURIComponent(this.base.password) : 'mpm@',
        secure: this.base.protocol === 'ftps:',
      });
    } catch (e) {
      c.close();
      throw new MorphuxError('infrastructure', `cannot reach mirror ${this.base.host}: ${(e as Error).message}`);
    }
    this.ftp = c;
    return c;
  }

  /** The bytes of `rel` (relative to the mirror's root), at most maxBytes. */
  async get(rel: string, maxBytes: number, progress?: (bytes: number) => void): Promise<Buffer> {
    const remote = path.posix.join(decodeURIComponent(this.base.pathname) || '/', rel);
    if (this.base.protocol.startsWith('http')) {
      const url = new URL(remote, this.base);
      let res: Response;
      try {
        res = await fetch(url);
      } catch (e) {
        throw new MorphuxError('infrastructure', `cannot reach mirror ${this.base.host}: ${(e as Error).message}`);
      }
      if (res.status === 404) throw new MorphuxError('not_found', `${rel} is not on the mirror`);
      if (!res.ok) throw new MorphuxError('infrastructure', `mirror answered HTTP ${res.status} for ${rel}`);
      const buf = Buffer.from(await res.arrayBuffer());
      if (buf.length > maxBytes) throw new MorphuxError('too_large', `${rel} is over ${maxBytes} bytes`);
      return buf;
    }
    const c = await this.client();
    const chunks: Buffer[] = [];
    let total = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        if (total > maxBytes) return cb(new MorphuxError('too_large', `${rel} is over ${maxBytes} bytes`));
        chunks.push(chunk);
        progress?.(total);
        cb();
      },
    });
    try {
      await c.downloadTo(sink, remote);
    } catch (e) {
      if (e instanceof MorphuxError) throw e;
      if ((e as { code?: number }).code === 550) throw new MorphuxError('not_found', `${rel} is not on the mirror`);
      throw new MorphuxError('infrastructure', `mirror download of ${rel} failed: ${(e as Error).message}`);
    }
    return Buffer.concat(chunks);
  }

  close(): void {
    this.ftp?.close();
    this.ftp = null;
  }
}
