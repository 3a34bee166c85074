// Signing in on the website: a sign-in form (user name + API token) guarded by the site's origin
// and a form token; a session kept on the server (accounts/session-store.ts) whose random id is the
// cookie (HttpOnly, SameSite=Lax, Secure behind TLS). A session ends at sign-out (for every copy of
// the cookie), after 14 days, when its token expires, or when its token is revoked. Sign-in
// attempts are throttled per address and per user name.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../domain/principal.js';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { admit, allowed } from '../../service/authorize.js';
import { requestLimits } from '../../service/request-limits.js';
import { addressOf } from '../auth.js';
import { readForm } from '../read-form.js';
import { requireSameOrigin, safeNext } from '../same-origin.js';
import { htmlErrors } from '../web/html-errors.js';
import { page } from '../web/html-layout.js';

export interface WebSession {
  id: string;
  user: Principal;
  csrf: string;
}

const COOKIE = 'morphux_session';
const SIGN_IN_COOKIE = 'morphux_sign_in';

/** The session a request carries, or null (none, ended, expired, or its token revoked or expired). */
export async function sessionOf(ctx: AppContext, c: Context): Promise<WebSession | null> {
  const id = getCookie(c, COOKIE);
  if (!id) return null;
  const rec = await ctx.sessions.get(id);
  if (!rec) return null;
  const user = await ctx.users.byTokenHash(rec.user, rec.token_sha256);
  if (!user || !allowed('session.create', user, {})) return null;
  return { id, user, csrf: rec.csrf };
}

export const sameToken = (a: string | undefined, b: string): boolean => {
  const x = Buffer.from(a ?? '');
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

const secure = (ctx: AppContext, c: Context) => ctx.publicUrl.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';

export function webSession(ctx: AppContext): Hono {
  const app = new Hono();
  app.onError(htmlErrors(ctx));

  const signInPage = (c: Context, error?: string, status: 200 | 401 = 200) => {
    const formToken = randomBytes(16).toString('hex');
    setCookie(c, SIGN_IN_COOKIE, formToken, { httpOnly: true, sameSite: 'Strict', secure: secure(ctx, c), path: '/sign-in', maxAge: 3600 });
    return c.html(page({
      title: 'Sign in',
      body: html`<h1>Sign in</h1>${error ? html`<p class="flash" role="alert">${error} <span class="muted">(<code id="error-code">unauthenticated</code>)</span></p>` : ''}
<form method="post" action="/sign-in">
<p><label for="user">User name</label><br><input id="user" name="user" autocomplete="username" required></p>
<p><label for="token">API token</label><br><input id="token" name="token" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="next" value="${safeNext(c, c.req.query('next'))}">
<input type="hidden" name="form_token" value="${formToken}">
<p><button type="submit">Sign in</button></p></form>
<p class="muted">An operator gives you a token with <code>morphux user add</code>.</p>`,
    }), status);
  };

  app.get('/sign-in', (c) => signInPage(c));
  app.post('/sign-in', async (c) => {
    requireSameOrigin(c, ctx.publicUrl);
    const form = await readForm(c, requestLimits(ctx.config).signInForm);
    if (!sameToken(form.form_token, getCookie(c, SIGN_IN_COOKIE) ?? '')) {
      throw new MorphuxError('forbidden', 'the sign-in form has expired; reload the page and try again');
    }
    await ctx.throttle.take('sign_in', { user: form.user ?? '', address: addressOf(c) });
    const p = await ctx.users.authenticateBasic(form.user ?? '', form.token ?? '');
    if (!p) return signInPage(c, 'That user name and token do not match.', 401);
    admit('session.create', p); // a worker's token opens the worker API only
    const { id, record } = await ctx.sessions.create(p.name, p.token!);
    const maxAge = Math.max(1, Math.floor((Date.parse(record.expires_at) - Date.now()) / 1000));
    setCookie(c, COOKIE, id, { httpOnly: true, sameSite: 'Lax', secure: secure(ctx, c), path: '/', maxAge });
    deleteCookie(c, SIGN_IN_COOKIE, { path: '/sign-in' });
    return c.redirect(safeNext(c, form.next), 303);
  });

  app.post('/sign-out', async (c) => {
    requireSameOrigin(c, ctx.publicUrl);
    const session = await sessionOf(ctx, c);
    if (session) {
      const form = await readForm(c, requestLimits(ctx.config).signInForm);
      if (!sameToken(form.csrf, session.csrf)) throw new MorphuxError('forbidden', 'the form has expired; reload the page and try again');
      await ctx.sessions.end(session.id);
    }
    deleteCookie(c, COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });
  return app;
}
