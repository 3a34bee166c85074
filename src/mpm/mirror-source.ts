// Reads one file of a mirror for mpm: ftp:// or ftps:// (basic-ftp, anonymous unless the URL has
// a user and password) or http(s):// (node:http/https, redirects followed). TLS trusts the system's
// CAs plus the user's --ca-file. Bounded in size, streamed with progress; errors are MorphuxErrors.
import type { Client } from 'basic-ftp';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MorphuxError } from '../domain/errors.js';
import { untrustedCertificate } from '../domain/tls-trust.js';

const TLS_FIX = 'pass --ca-file with the PEM of the CA that signed it (or MPM_CA_FILE, or "ca_file" in the mpm config)';

export class MirrorSource {
  private ftp: Client | null = null;
  readonly base: URL;

  /** `ca`: the CAs TLS trusts (tls-trust.ts trustedCas), undefined for the system's */
  constructor(url: string, private readonly ca?: string[]) {
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
    // loaded on use: an ESM bundle of mpm hoists a package's static import to its start
    const { Client } = await import('basic-ftp');
    const c = new Client(30_000);
    try {
      await c.access({
        host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port ? Number(this.base.port) : 21,
        user: this.base.username ? decodeURIComponent(this.base.username) : 'anonymous',
        password: this.base.password ? decodeURIComponent(this.base.password) : 'mpm@',
        secure: this.base.protocol === 'ftps:',
        secureOptions: this.base.protocol === 'ftps:' ? { ca: this.ca } : undefined,
      });
    } catch (e) {
      c.close();
      throw untrustedCertificate(e, `mirror ${this.base.host}`, TLS_FIX)
        ?? new MorphuxError('infrastructure', `cannot reach mirror ${this.base.host}: ${(e as Error).message}`);
    }
    this.ftp = c;
    return c;
  }

  /** The bytes of `rel` (relative to the mirror's root), at most maxBytes. */
  async get(rel: string, maxBytes: number, progress?: (bytes: number) => void): Promise<Buffer> {
    const remote = path.posix.join(decodeURIComponent(this.base.pathname) || '/', rel);
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
    if (this.base.protocol.startsWith('http')) {
      await this.httpGet(new URL(remote.split('/').map(encodeURIComponent).join('/'), this.base), rel, sink);
      return Buffer.concat(chunks);
    }
    const c = await this.client();
    try {
      await c.downloadTo(sink, remote);
    } catch (e) {
      if (e instanceof MorphuxError) throw e;
      if ((e as { code?: number }).code === 550) throw new MorphuxError('not_found', `${rel} is not on the mirror`);
      throw new MorphuxError('infrastructure', `mirror download of ${rel} failed: ${(e as Error).message}`);
    }
    return Buffer.concat(chunks);
  }

  private async httpGet(url: URL, rel: string, sink: Writable, redirects = 5): Promise<void> {
    let res: http.IncomingMessage;
    try {
      res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const get = url.protocol === 'https:' ? https.get : http.get;
        get(url, { ca: this.ca, timeout: 30_000 }, resolve).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timed out')); });
      });
    } catch (e) {
      throw untrustedCertificate(e, `mirror ${this.base.host}`, TLS_FIX)
        ?? new MorphuxError('infrastructure', `cannot reach mirror ${this.base.host}: ${(e as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects > 0) {
      res.resume();
      return this.httpGet(new URL(res.headers.location, url), rel, sink, redirects - 1);
    }
    if (status !== 200) {
      res.resume();
      if (status === 404) throw new MorphuxError('not_found', `${rel} is not on the mirror`);
      throw new MorphuxError('infrastructure', `mirror answered HTTP ${status} for ${rel}`);
    }
    try {
      await pipeline(res, sink);
    } catch (e) {
      if (e instanceof MorphuxError) throw e;
      throw new MorphuxError('infrastructure', `mirror download of ${rel} failed: ${(e as Error).message}`);
    }
  }

  close(): void {
    this.ftp?.close();
    this.ftp = null;
  }
}
