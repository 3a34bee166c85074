// Signing in on the website and acting there: a sign-in form (user name + API token), a session
// cookie (HttpOnly, SameSite=Lax, Secure behind TLS, signed with a secret kept in DATA/state) that
// names the token it was made with, so revoking the token ends the session; a CSRF token in every
// form; and the actions people take on a submission page (comment, vote, tag, report, flag stable),
// with the same rules and store functions as the API.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { hashToken } from '../../accounts/tokens.js';
import type { Principal } from '../../accounts/user-store.js';
import { ARCHES } from '../../config/config-schema.js';
import { MorphuxError } from '../../domain/errors.js';
import { checkTag } from '../../domain/names.js';
import type { AppContext } from '../../service/app-context.js';
import { addComment } from '../../store/add-comment.js';
import { hasControlChars } from '../../domain/untrusted-text.js';
import { addUserReport } from '../../store/add-user-report.js';
import { atomicWrite } from '../../store/atomic-write.js';
import { setStableFlag } from '../../store/set-stable-flag.js';
import { setTag } from '../../store/set-tag.js';
import { setVote } from '../../store/set-vote.js';
import { storePaths } from '../../store/store-paths.js';
import type { SubmissionInfo } from '../../store/submission-types.js';
import { page } from '../web/html-layout.js';
import { parsePkgid } from './api-packages.js';
import { htmlErrors } from '../web/html-errors.js';

export interface WebSession {
  user: Principal;
  csrf: string;
}

const COOKIE = 'morphux_session';
const LIFETIME_S = 14 * 24 * 3600;
const secrets = new Map<string, Promise<string>>();

/** The cookie-signing secret of a data dir, made once (0600). */
function secretOf(ctx: AppContext): Promise<string> {
  const file = path.join(ctx.layout.state, 'session-secret');
  let s = secrets.get(file);
  if (!s) {
    s = readFile(file, 'utf8').then((t) => t.trim(), async () => {
      const fresh = randomBytes(32).toString('hex');
      await atomicWrite(file, fresh + '\n', 0o600);
      return (await readFile(file, 'utf8')).trim();
    });
    secrets.set(file, s);
  }
  return s;
}

export async function sessionOf(ctx: AppContext, c: Context): Promise<WebSession | null> {
  const v = await getSignedCookie(c, await secretOf(ctx), COOKIE);
  if (!v) return null;
  const [name, tokenHash, expires, csrf] = v.split('|');
  if (!name || !tokenHash || !csrf || Number(expires) < Date.now() / 1000) return null;
  const user = await ctx.users.get(name);
  if (!user || user.worker || !user.tokens.some((t) => t.sha256 === tokenHash)) return null; // revoked
  return { user: { name: user.name, admin: user.admin }, csrf };
}

const secure = (ctx: AppContext, c: Context) => ctx.publicUrl.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';

async function formOf(c: Context, session: WebSession | null): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
  if (session) {
    const a = Buffer.from(form.csrf ?? '');
    const b = Buffer.from(session.csrf);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new MorphuxError('forbidden', 'the form has expired; reload the page and try again');
  }
  return form;
}

export function webSession(ctx: AppContext): Hono {
  const app = new Hono();
  app.onError(htmlErrors(ctx));

  const signInPage = (c: Context, error?: string, status: 200 | 401 | 403 = 200) => c.html(page({
    title: 'Sign in',
    body: html`<h1>Sign in</h1>${error ? html`<p class="flash" role="alert">${error}</p>` : ''}
<form method="post" action="/sign-in">
<p><label for="user">User name</label><br><input id="user" name="user" autocomplete="username" required></p>
<p><label for="token">API token</label><br><input id="token" name="token" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="next" value="${c.req.query('next') ?? '/'}">
<p><button type="submit">Sign in</button></p></form>
<p class="muted">An operator gives you a token with <code>morphux user add</code>.</p>`,
  }), status);

  app.get('/sign-in', (c) => signInPage(c));
  app.post('/sign-in', async (c) => {
    const form = await formOf(c, null);
    const p = await ctx.users.authenticateBasic(form.user ?? '', form.token ?? '');
    if (!p) return signInPage(c, 'That user name and token do not match.', 401);
    if (p.worker) return signInPage(c, 'A worker token opens the worker API only; it cannot sign in.', 403);
    const expires = Math.floor(Date.now() / 1000) + LIFETIME_S;
    const value = [p.name, hashToken(form.token), expires, randomBytes(16).toString('hex')].join('|');
    await setSignedCookie(c, COOKIE, value, await secretOf(ctx), { httpOnly: true, sameSite: 'Lax', secure: secure(ctx, c), path: '/', maxAge: LIFETIME_S });
    const next = form.next && /^\/(?!\/)/.test(form.next) ? form.next : '/';
    return c.redirect(next, 303);
  });
  app.post('/sign-out', async (c) => {
    await formOf(c, await sessionOf(ctx, c));
    deleteCookie(c, COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  app.post('/submissions/:pkgid/:action', async (c) => {
    const session = await sessionOf(ctx, c);
    const pkgid = parsePkgid(c.req.param('pkgid'));
    if (!session) return c.redirect(`/sign-in?next=${encodeURIComponent(`/submissions/${pkgid}`)}`, 303);
    const form = await formOf(c, session);
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`);
    const who = session.user.name;
    switch (c.req.param('action')) {
      case 'comment': {
        const text = (form.text ?? '').trim();
        if (!text || text.length > 16 * 1024) throw new MorphuxError('bad_request', 'a comment is 1 to 16384 characters');
        if (hasControlChars(text)) throw new MorphuxError('bad_request', 'a comment may not hold control characters (only tab and newline)');
        await addComment(ctx.store, pkgid, who, text);
        break;
      }
      case 'vote': await setVote(ctx.store, pkgid, who, form.on !== 'false'); break;
      case 'tag': await setTag(ctx.store, pkgid, who, checkTag(form.tag), form.on !== 'false'); break;
      case 'report': {
        if (!['ok', 'failed'].includes(form.status) || !(ARCHES as readonly string[]).includes(form.arch)) throw new MorphuxError('bad_request', 'a report needs a status (ok or failed) and an arch');
        await addUserReport(ctx.store, pkgid, who, { status: form.status as 'ok' | 'failed', arch: form.arch, message: form.message || null, log: form.log || null });
        break;
      }
      case 'flag-stable':
        if (!(await ctx.owners.mayMaintain(session.user, info.name))) throw new MorphuxError('forbidden', `only a maintainer of ${info.name} or an admin may flag it stable`);
        await setStableFlag(ctx.store, pkgid, who, form.on !== 'false');
        break;
      default: throw new MorphuxError('not_found', 'no such action');
    }
    return c.redirect(`/submissions/${pkgid}`, 303);
  });
  return app;
}
