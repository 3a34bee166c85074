// Errors on web pages are pages, with the status the error code calls for; 5xx are logged and
// show no internals.
import type { Context } from 'hono';
import { html } from 'hono/html';
import { isMorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { page } from './html-layout.js';
import { retryAfter } from '../error-status.js';

/** Errors on pages are pages: 404 for what does not exist, 400/403 for refused actions, 500 logged. */
export function htmlErrors(ctx: AppContext) {
  return (err: Error, c: Context) => {
    const status = !isMorphuxError(err) ? 500
      : ['not_found', 'invalid_name'].includes(err.code) ? 404
      : err.code === 'forbidden' ? 403 : err.code === 'unauthenticated' ? 401 : err.code === 'too_large' ? 413
      : err.code === 'rate_limited' ? 429
      : ['internal', 'infrastructure', 'config_invalid'].includes(err.code) ? 500 : 400;
    if (status === 500) ctx.log.error({ err, path: c.req.path }, 'page failed');
    if (status === 429 && isMorphuxError(err)) c.header('Retry-After', retryAfter(err.data));
    const title = status === 404 ? 'Not found' : status === 500 ? 'Something went wrong' : status === 429 ? 'Too many requests' : 'Not done';
    const body = html`<h1>${title}</h1><p>${status === 500 ? 'The error was logged.' : err.message}</p><p><a href="/">Home</a></p>`;
    return c.html(page({ title, body }), status as 400);
  };
}

