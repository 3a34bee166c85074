// Errors on web pages are pages, with the status error-status.ts gives the error's code (one
// mapping for the API and the website) and the code itself on the page; 5xx are logged and show
// no internals. A name that cannot exist is a page that does not exist (404).
import type { Context } from 'hono';
import { html } from 'hono/html';
import { isMorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { page } from './html-layout.js';
import { httpStatus, retryAfter } from '../error-status.js';

const TITLES: Record<number, string> = { 401: 'Sign in first', 403: 'Not allowed', 404: 'Not found', 413: 'Too large', 429: 'Too many requests' };

export function htmlErrors(ctx: AppContext) {
  return (err: Error, c: Context) => {
    const code = isMorphuxError(err) ? (err.code === 'invalid_name' ? 'not_found' : err.code) : 'internal';
    const status = httpStatus(code);
    if (status >= 500) ctx.log.error({ err, path: c.req.path }, 'page failed');
    if (status === 429 && isMorphuxError(err)) c.header('Retry-After', retryAfter(err.data));
    const title = status >= 500 ? 'Something went wrong' : TITLES[status] ?? 'Not done';
    const message = status >= 500 ? 'The error was logged.' : err.message;
    const signIn = status === 401 ? html`<p><a href="/sign-in?next=${encodeURIComponent(c.req.method === 'GET' ? c.req.path : '/')}">Sign in</a></p>` : '';
    const body = html`<h1>${title}</h1><p>${message}</p>${signIn}<p class="muted">Error code: <code id="error-code">${code}</code></p><p><a href="/">Home</a></p>`;
    return c.html(page({ title, body }), status as 400);
  };
}
