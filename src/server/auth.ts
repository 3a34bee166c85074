// Who is asking an API request: the principal of an `Authorization: Bearer <token>` header (or
// nobody), and the client's address. Tokens are checked against their stored hashes on every
// request; a presented token that is not valid counts against the address's auth_failure bucket.
// What the principal may do is not decided here: service/authorize.ts.
import type { Context } from 'hono';
import type { Principal } from '../domain/principal.js';
import { MorphuxError } from '../domain/errors.js';
import type { Caller } from '../service/actor.js';
import type { AppContext } from '../service/app-context.js';

/** The client's address (null when the app is called in-process). */
export function addressOf(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

export async function principalOf(ctx: AppContext, c: Context): Promise<Principal | null> {
  const h = c.req.header('authorization') ?? '';
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  const p = m ? await ctx.users.authenticate(m[1]) : null;
  if (p) return p;
  await ctx.throttle.take('auth_failure', { address: addressOf(c) });
  throw new MorphuxError('unauthenticated', m ? 'the token is not valid' : 'use Authorization: Bearer <token>');
}

/** Each request's caller, found once: a route that names the signed-in user and then acts
 *  (/api/v1/tokens) checks the token once, and a bad one counts once against auth_failure. */
const callers = new WeakMap<Context, Promise<Caller>>();

export function apiCaller(ctx: AppContext, c: Context): Promise<Caller> {
  let caller = callers.get(c);
  if (!caller) {
    caller = principalOf(ctx, c).then((actor) => ({ actor, address: addressOf(c) }));
    callers.set(c, caller);
  }
  return caller;
}
