// What `install` and `upgrade` ask the server for: NAME, NAME@VERSION, NAME@stable, a PKGID or a
// PKGURL of the server (sent as its pkgid), checked before any request.
import { MorphuxError } from '../../domain/errors.js';
import { checkPackageName } from '../../domain/names.js';
import { isVersion } from '../../domain/version.js';
import type { MpmClient } from '../client.js';

export interface Spec {
  /** as sent in pkg= */
  query: string;
  name: string | null;
  pkgid: number | null;
}

const isUrl = (t: string) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(t) || t.startsWith('//');

export function parseSpec(client: Pick<MpmClient, 'server' | 'onOrigin'>, text: string): Spec {
  if (/^[0-9]{1,9}$/.test(text) && Number(text) > 0) return { query: String(Number(text)), name: null, pkgid: Number(text) };
  if (isUrl(text)) {
    const u = new URL(client.onOrigin(text, `the pkgurl ${text}`));
    const prefix = new URL(client.server).pathname.replace(/\/+$/, '');
    const m = /^\/pkg\/([0-9]{1,9})$/.exec(u.pathname.startsWith(`${prefix}/`) ? u.pathname.slice(prefix.length) : '');
    if (!m || u.search || Number(m[1]) < 1) throw new MorphuxError('bad_request', `not a pkgurl (BASE/pkg/<pkgid>) of ${client.server}: ${JSON.stringify(text.slice(0, 200))}`);
    return { query: m[1], name: null, pkgid: Number(m[1]) };
  }
  const at = text.indexOf('@');
  const name = checkPackageName(at < 0 ? text : text.slice(0, at));
  if (at >= 0) {
    const which = text.slice(at + 1);
    if (which !== 'stable' && !isVersion(which)) throw new MorphuxError('invalid_version', `bad version in ${JSON.stringify(text.slice(0, 200))}: want NAME, NAME@VERSION or NAME@stable`);
  }
  return { query: text, name, pkgid: null };
}
