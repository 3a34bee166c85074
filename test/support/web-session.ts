// The website as a script sees it, for hostile-input tests: signing in (the sign-in form's cookie
// and hidden form token, then the session cookie and the CSRF token every page's forms carry),
// posting a form with manual redirects, the error code an HTML error page shows
// (`<code id="error-code">`), and raw-chunked.ts's flood read as an HTML page.
import { rawChunkedFlood } from './raw-chunked.js';

export interface WebSignIn {
  /** `morphux_session=<id>`, for a Cookie header */
  cookie: string;
  /** the session's CSRF token, as the page's forms carry it */
  csrf: string;
}

export interface WebAnswer {
  status: number;
  /** the error page's code (`#error-code`), or null */
  code: string | null;
  location: string | null;
  /** the cookies the answer set (name → value; an empty value deletes) */
  cookies: Record<string, string>;
  headers: Headers;
  text: string;
}

/** The code an HTML error page shows in `<code id="error-code">`. */
export const errorCodeOf = (page: string): string | null => /<code id="error-code">([^<]*)<\/code>/.exec(page)?.[1] ?? null;

/** The value of a hidden input of a page (HTML entities decoded), or null. */
export function hiddenField(page: string, name: string): string | null {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(page);
  if (!m) return null;
  return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

async function answer(res: Response): Promise<WebAnswer> {
  const text = await res.text();
  return { status: res.status, code: errorCodeOf(text), location: res.headers.get('location'), cookies: cookiesOf(res), headers: res.headers, text };
}

export async function getPage(base: string, p: string, cookie?: string): Promise<WebAnswer> {
  return answer(await fetch(`${base}${p}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' }));
}

/** GET /sign-in: the sign-in cookie (`morphux_sign_in=…`) and the form's hidden form_token. */
export async function signInForm(base: string, query = ''): Promise<{ cookie: string; formToken: string; page: WebAnswer }> {
  const page = await getPage(base, `/sign-in${query}`);
  if (page.status !== 200) throw new Error(`GET /sign-in: ${page.status}`);
  const value = page.cookies.morphux_sign_in;
  const formToken = hiddenField(page.text, 'form_token');
  if (!value || !formToken) throw new Error('GET /sign-in: no sign-in cookie or form token');
  return { cookie: `morphux_sign_in=${value}`, formToken, page };
}

/** POSTs a form (urlencoded unless `contentType` says otherwise; `body` replaces the fields). */
export async function postForm(base: string, p: string, fields: Record<string, string>, opts: { cookie?: string; headers?: Record<string, string>; contentType?: string; body?: string } = {}): Promise<WebAnswer> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded', ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  const body = opts.body ?? new URLSearchParams(fields).toString();
  return answer(await fetch(`${base}${p}`, { method: 'POST', headers, body, redirect: 'manual' }));
}

/** POST /sign-in with a fresh form (unless `form` is given); the answer as it is. */
export async function postSignIn(base: string, user: string, token: string, opts: { next?: string; headers?: Record<string, string>; form?: { cookie: string; formToken: string } } = {}): Promise<WebAnswer> {
  const form = opts.form ?? (await signInForm(base));
  return postForm(base, '/sign-in', { user, token, next: opts.next ?? '/', form_token: form.formToken }, { cookie: form.cookie, headers: opts.headers });
}

/** Signs in and returns the session cookie and its CSRF token (from the sign-out form of the home page). */
export async function signIn(base: string, user: string, token: string): Promise<WebSignIn> {
  const r = await postSignIn(base, user, token);
  const id = r.cookies.morphux_session;
  if (r.status !== 303 || !id) throw new Error(`POST /sign-in as ${user}: ${r.status} ${r.code}`);
  const cookie = `morphux_session=${id}`;
  const home = await getPage(base, '/', cookie);
  const csrf = hiddenField(home.text, 'csrf');
  if (!csrf) throw new Error(`signed in as ${user}, but the home page has no CSRF token`);
  return { cookie, csrf };
}

export interface RawPage {
  status: number | null;
  code: string | null;
  text: string;
  /** body bytes the client had written when the exchange ended */
  sentBytes: number;
}

/** raw-chunked.ts's flood (declared or chunked), its answer read as an HTML error page. */
export async function rawPage(url: string, head: string, total: number, opts: { declared?: boolean; chunkBytes?: number; giveUpMs?: number } = {}): Promise<RawPage> {
  const r = await rawChunkedFlood(url, head, total, opts.chunkBytes, opts.giveUpMs, opts.declared);
  return { status: r.status, code: errorCodeOf(r.text), text: r.text, sentBytes: r.sentBytes };
}
