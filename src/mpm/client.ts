// mpm's HTTP client: the public API of one server, on that server's origin only: redirects are
// followed by hand and only within the origin, so the token never leaves it. Errors from the
// server ({"error":{"code","message"}}) become MorphuxErrors with the same code.
import { MorphuxError, ErrorCodes, type ErrorCode } from '../domain/errors.js';

export interface MpmOptions {
  server: string;
  token?: string;
}

export interface MpmRequestInit {
  body?: BodyInit;
  contentType?: string;
  json?: unknown;
  /** 'manual': hand a 3xx back to the caller; default: follow it, on the server's origin only */
  redirect?: 'follow' | 'manual';
}

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class MpmClient {
  /** the server's base URL, no trailing slash */
  readonly server: string;
  /** scheme://host:port of the server: the only place requests (and the token) go */
  readonly origin: string;
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

  async request(method: string, p: string, init: MpmRequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init.contentType) headers['content-type'] = init.contentType;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let url = this.url(p);
    for (let hops = 0; ; hops++) {
      const res = await this.once(method, url, headers, body);
      const loc = res.headers.get('location');
      if (init.redirect === 'manual' || !REDIRECTS.has(res.status) || !loc) {
        if (res.status >= 400) throw await errorOf(res);
        return res;
      }
      await res.body?.cancel();
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
    return (await (await this.request(method, p, { json })).json()) as T;
  }

  /** One exchange with the server, never following a redirect: the token goes to `url` only, which is on the origin. */
  private async once(method: string, url: string, headers: Record<string, string>, body: BodyInit | undefined): Promise<Response> {
    const h = { ...headers };
    if (this.o.token && new URL(url).origin === this.origin) h.authorization = `Bearer ${this.o.token}`;
    try {
      return await fetch(url, { method, headers: h, body, redirect: 'manual' });
    } catch (e) {
      throw new MorphuxError('infrastructure', `cannot reach ${this.server}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
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

async function errorOf(res: Response): Promise<MorphuxError> {
  let code: ErrorCode = res.status === 404 ? 'not_found' : res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : 'bad_request';
  let message = `HTTP ${res.status}`;
  try {
    const j = (await res.json()) as { error?: { code?: string; message?: string } };
    if (j.error?.message) message = j.error.message;
    if (j.error?.code && (ErrorCodes as readonly string[]).includes(j.error.code)) code = j.error.code as ErrorCode;
  } catch { /* not JSON */ }
  return new MorphuxError(code, message, { status: res.status });
}
