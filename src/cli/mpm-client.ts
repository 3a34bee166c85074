// mpm's HTTP client: the public API only (never the server's internals). Errors from the server
// ({"error":{"code","message"}}) become MorphuxErrors with the same code.
import { MorphuxError, ErrorCodes, type ErrorCode } from '../domain/errors.js';

export interface MpmOptions {
  server: string;
  token?: string;
}

export class MpmClient {
  readonly server: string;
  constructor(private readonly o: MpmOptions) {
    this.server = o.server.replace(/\/+$/, '');
  }

  url(p: string): string {
    return /^https?:\/\//.test(p) ? p : `${this.server}${p.startsWith('/') ? '' : '/'}${p}`;
  }

  async request(method: string, p: string, init: { body?: BodyInit; contentType?: string; json?: unknown; redirect?: RequestRedirect } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (init.contentType) headers['content-type'] = init.contentType;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let res: Response;
    try {
      res = await fetch(this.url(p), { method, headers, body, redirect: init.redirect ?? 'follow' });
    } catch (e) {
      throw new MorphuxError('infrastructure', `cannot reach ${this.server}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    if (res.status >= 400) throw await errorOf(res);
    return res;
  }

  async json<T>(method: string, p: string, json?: unknown): Promise<T> {
    return (await (await this.request(method, p, { json })).json()) as T;
  }
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
