// mpm's HTTP client: the public API of one server, on that server's origin only: redirects are
// followed by hand and only within the origin, so the token never leaves it. Errors from the
// server ({"error":{"code","message"}}) become MorphuxErrors with the same code.
// node:http(s), not fetch: the first fetch() of a process compiles undici's WebAssembly HTTP
// parser, ~40 MiB of peak RSS (docs/BENCHMARKS.md, `mpm install`). One keep-alive agent per
// client, so the parallel downloads of an install reuse their connections; TLS trusts Node's CA
// store (plus NODE_EXTRA_CA_CERTS), as fetch did.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { MorphuxError, ErrorCodes, type ErrorCode } from '../domain/errors.js';

export interface MpmOptions {
  server: string;
  token?: string;
}

export interface MpmRequestInit {
  /** sent whole, with its content-length */
  body?: Buffer | Uint8Array | string;
  contentType?: string;
  json?: unknown;
  /** 'manual': hand a 3xx back to the caller; default: follow it, on the server's origin only */
  redirect?: 'follow' | 'manual';
}

/** One answer of the server. Read its body once (body, buffer, text or json), or discard it. */
export interface MpmResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** the body as it arrives, in Buffers */
  readonly body: Readable & AsyncIterable<Buffer>;
  /** the whole body; a too_large error naming `what` past `max` bytes */
  buffer(max?: number, what?: string): Promise<Buffer>;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  /** drops the body: a short one is drained (the connection is reused), a long or unknown one closes the connection */
  discard(): void;
}

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** No byte from the server for this long (connecting, waiting for the answer, or within its body) ends the exchange, as fetch's 300 s did. */
const IDLE_TIMEOUT_MS = 300_000;
/** What an error answer is read for its {"error":…} at most. */
const MAX_ERROR_BYTES = 1 << 20;
/** A body discard() drains rather than closing the connection. */
const DRAIN_BYTES = 64 << 10;
/** Methods sent again, once, when a kept-alive connection turns out closed by the server before it answered. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export class MpmClient {
  /** the server's base URL, no trailing slash */
  readonly server: string;
  /** scheme://host:port of the server: the only place requests (and the token) go */
  readonly origin: string;
  private agent: http.Agent | null = null;
  constructor(private readonly o: MpmOptions) {
    this.server = o.server.replace(/\/+$/, '');
    this.origin = originOf(this.server);
  }

  /** An absolute URL for an API path, or `p` itself when it is an absolute URL on the server's origin. */
  url(p: string): string {
    if (!isAbsolute(p)) return `${this.server}${p.startsWith('/') ? '' : '/'}${p}`;
    return this.onOrigin(p, 'a URL');
  }

  /** `u` (resolved against `base`) when it is on the server's origin; otherwise a forbidden error naming the other origin. */
  onOrigin(u: string, what: string, base?: string): string {
    let parsed: URL;
    try {
      parsed = new URL(u, base);
    } catch {
      throw new MorphuxError('bad_request', `not a URL: ${u}`);
    }
    if (parsed.origin !== this.origin) {
      throw new MorphuxError('forbidden', `refusing ${what} on another origin (${parsed.origin}); the server is ${this.origin}`, { origin: parsed.origin });
    }
    return parsed.toString();
  }

  async request(method: string, p: string, init: MpmRequestInit = {}): Promise<MpmResponse> {
    const headers: Record<string, string> = {};
    if (init.contentType) headers['content-type'] = init.contentType;
    let body: Buffer | undefined = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength);
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(init.json));
    }
    let url = this.url(p);
    for (let hops = 0; ; hops++) {
      const res = await this.once(method, url, headers, body);
      const loc = res.headers.get('location');
      if (init.redirect === 'manual' || !REDIRECTS.has(res.status) || !loc) {
        if (res.status >= 400) throw await errorOf(res);
        return res;
      }
      res.discard();
      if (hops >= MAX_REDIRECTS) throw new MorphuxError('bad_request', `too many redirects from ${this.url(p)}`);
      url = this.onOrigin(loc, `a redirect from ${url}`, url);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
    }
  }

  async json<T>(method: string, p: string, json?: unknown): Promise<T> {
    return (await this.request(method, p, { json })).json<T>();
  }

  /** One exchange with the server, never following a redirect: the token goes to `url` only, which is on the origin. */
  private once(method: string, url: string, headers: Record<string, string>, body: Buffer | undefined, again = true): Promise<MpmResponse> {
    const u = new URL(url);
    const h: Record<string, string> = { accept: '*/*', 'user-agent': 'mpm', ...headers };
    if (this.o.token && u.origin === this.origin) h.authorization = `Bearer ${this.o.token}`;
    if (body !== undefined || !['GET', 'HEAD', 'OPTIONS'].includes(method)) h['content-length'] = String(body?.length ?? 0);
    return new Promise<MpmResponse>((resolve, reject) => {
      let answered = false;
      const req = (u.protocol === 'https:' ? https : http).request(u, { method, headers: h, agent: this.agentFor(u.protocol), timeout: IDLE_TIMEOUT_MS });
      req.on('response', (res) => {
        answered = true;
        resolve(responseOf(res, this.server));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${IDLE_TIMEOUT_MS / 1000} s`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (answered) return; // the body's reader gets it
        // a kept-alive connection the server closed while it sat idle: it never saw this request
        if (again && req.reusedSocket && IDEMPOTENT.has(method) && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          resolve(this.once(method, url, headers, body, false));
          return;
        }
        reject(new MorphuxError('infrastructure', `cannot reach ${this.server}: ${e.message}`));
      });
      req.end(body);
    });
  }

  private agentFor(protocol: string): http.Agent {
    this.agent ??= new (protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true });
    return this.agent;
  }
}

/** Whether `p` names a scheme (http:, evil:) or is protocol-relative (//host): a URL, not an API path. */
export const isAbsolute = (p: string): boolean => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) || p.startsWith('//');

function originOf(server: string): string {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    throw new MorphuxError('bad_request', `--server must be an http:// or https:// URL, not ${JSON.stringify(server)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new MorphuxError('bad_request', `--server must be an http:// or https:// URL, not ${u.protocol}`);
  return u.origin;
}

/** A body the connection cut short, as an infrastructure error (a MorphuxError, such as too_large, stays itself). */
export function cutShort(e: unknown, server: string): Error {
  if (e instanceof MorphuxError) return e;
  return new MorphuxError('infrastructure', `the answer of ${server} was cut short: ${(e as Error).message}`);
}

function responseOf(res: http.IncomingMessage, server: string): MpmResponse {
  const r: MpmResponse = {
    status: res.statusCode ?? 0,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    body: res,
    async buffer(max = Infinity, what = 'the answer') {
      const chunks: Buffer[] = [];
      let n = 0;
      try {
        for await (const c of res as AsyncIterable<Buffer>) {
          n += c.length;
          if (n > max) throw new MorphuxError('too_large', `${what} is over ${max} bytes`);
          chunks.push(c);
        }
      } catch (e) {
        throw cutShort(e, server);
      }
      return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, n);
    },
    async text() {
      return (await r.buffer()).toString('utf8');
    },
    async json<T>() {
      return JSON.parse(await r.text()) as T;
    },
    discard() {
      if (res.complete || res.destroyed) return;
      const length = Number(res.headers['content-length']);
      if (res.headers['content-length'] !== undefined && length <= DRAIN_BYTES) res.resume();
      else res.destroy();
    },
  };
  return r;
}

async function errorOf(res: MpmResponse): Promise<MorphuxError> {
  let code: ErrorCode = res.status === 404 ? 'not_found' : res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : 'bad_request';
  let message = `HTTP ${res.status}`;
  try {
    const j = JSON.parse((await res.buffer(MAX_ERROR_BYTES)).toString('utf8')) as { error?: { code?: string; message?: string } };
    if (j.error?.message) message = j.error.message;
    if (j.error?.code && (ErrorCodes as readonly string[]).includes(j.error.code)) code = j.error.code as ErrorCode;
  } catch { /* not JSON, too long, or cut short */ }
  return new MorphuxError(code, message, { status: res.status });
}
