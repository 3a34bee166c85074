// Strong ETags and 304s for GET answers built in memory (JSON and HTML): the ETag is the sha256
// of the body, so equal bodies share it; If-None-Match (a list, or *) answers 304. Streams (the
// build log) and answers that set their own ETag are left alone.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag; // strong comparison: a weak W/ tag never matches
  });
}

export function etag(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return;
    const res = c.res;
    if (res.status !== 200 || res.headers.has('etag')) return;
    if (!/^(application\/json|text\/html)/.test(res.headers.get('content-type') ?? '')) return;
    const body = Buffer.from(await res.arrayBuffer());
    const tag = `"${createHash('sha256').update(body).digest('hex')}"`;
    const headers = new Headers(res.headers);
    headers.set('ETag', tag);
    if (!headers.has('cache-control')) headers.set('Cache-Control', 'no-cache');
    const fresh = etagMatches(c.req.header('if-none-match'), tag);
    if (fresh) headers.delete('content-length');
    c.res = undefined;
    c.res = fresh ? new Response(null, { status: 304, headers }) : new Response(body, { status: 200, headers });
  };
}
