// A command's submission argument as a pkgid: a pkgid (`7`) or a pkgurl (`BASE/pkg/7`) of the
// configured server. A pkgurl of another origin is refused (forbidden) before any request is made.
import { MorphuxError } from '../domain/errors.js';
import { isAbsolute, type MpmClient } from './client.js';

const PKGID = /^[0-9]{1,9}$/;

/** The pkgid a submission argument names, or a MorphuxError saying why it names none. */
export function submissionArg(client: Pick<MpmClient, 'server' | 'onOrigin'>, text: string): number {
  if (PKGID.test(text)) return pkgidOf(text, text);
  if (!isAbsolute(text)) throw notASubmission(text);
  return pkgidOfPkgurl(client, client.onOrigin(text, `the pkgurl ${text}`));
}

/** The pkgid of a URL on the server's origin when its path is the server's `/pkg/<pkgid>`. */
function pkgidOfPkgurl(client: Pick<MpmClient, 'server'>, url: string): number {
  const u = new URL(url);
  const prefix = new URL(client.server).pathname.replace(/\/+$/, '');
  const m = /^\/pkg\/([0-9]+)\/?$/.exec(u.pathname.startsWith(`${prefix}/`) ? u.pathname.slice(prefix.length) : '');
  if (!m || u.search) throw notASubmission(url);
  return pkgidOf(m[1], url);
}

function pkgidOf(digits: string, text: string): number {
  const n = Number(digits);
  if (!PKGID.test(digits) || n < 1) throw notASubmission(text);
  return n;
}

const notASubmission = (text: string) =>
  new MorphuxError('bad_request', `not a pkgid or a pkgurl (BASE/pkg/<pkgid>): ${JSON.stringify(text.slice(0, 200))}`);
