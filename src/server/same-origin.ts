// The website's own origin, and what it accepts from a browser as coming from itself: a form
// POST whose Origin (or Sec-Fetch-Site) says it was sent from another site is refused, and a
// `next` to go to after signing in is kept only when it resolves to a path of this origin.
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';

/** The origins this server answers as: the request's own and the configured public URL's. */
function ownOrigins(c: Context, publicUrl: string): Set<string> {
  const out = new Set<string>();
  for (const u of [c.req.url, publicUrl]) {
    try {
      out.add(new URL(u).origin);
    } catch { /* not a URL */ }
  }
  return out;
}

/** Refuses (403) a form POST a browser says another site sent. Clients that send neither header
 *  (curl, scripts) are not browsers a page could drive, and carry their own credentials. */
export function requireSameOrigin(c: Context, publicUrl: string): void {
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    if (!ownOrigins(c, publicUrl).has(origin)) throw new MorphuxError('forbidden', 'this form was sent from another site');
    return;
  }
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new MorphuxError('forbidden', 'this form was sent from another site');
}

/** Where to go after signing in: `next` as a path of this origin (never one that begins with
 *  `//` or `/\`, which a browser reads as another host), or "/". */
export function safeNext(c: Context, next: string | undefined): string {
  if (!next) return '/';
  try {
    const base = new URL(c.req.url);
    const u = new URL(next, base);
    if (u.origin !== base.origin) return '/';
    // dot segments can leave a path that begins with `//` (`/.//evil.example/`), which a browser
    // reads as another host: no such path is kept
    const p = `${u.pathname}${u.search}${u.hash}`;
    return /^\/[/\\]/.test(p) ? '/' : p;
  } catch {
    return '/';
  }
}
