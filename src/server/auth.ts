// Who is asking: the principal of an `Authorization: Bearer <token>` header (or null), and the
// guards routes use. Tokens are checked against their stored hashes on every request. A worker
// token passes requireWorker only: every other guard answers it 403.
import type { Context } from 'hono';
import type { Principal } from '../accounts/user-store.js';
import { MorphuxError } from '../domain/errors.js';
import type { AppContext } from '../service/app-context.js';

export async function principalOf(ctx: AppContext, c: Context): Promise<Principal | null> {
  const h = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (m) {
    const p = await ctx.users.authenticate(m[1]);
    if (!p) throw new MorphuxError('unauthenticated', 'the token is not valid');
    return p;
  }
  if (h) throw new MorphuxError('unauthenticated', 'use Authorization: Bearer <token>');
  return null;
}

async function requireToken(ctx: AppContext, c: Context): Promise<Principal> {
  const p = await principalOf(ctx, c);
  if (!p) throw new MorphuxError('unauthenticated', 'this needs a token: Authorization: Bearer <token>');
  return p;
}

/** Any registered user or admin; a worker token is refused (403). */
export async function requireUser(ctx: AppContext, c: Context): Promise<Principal> {
  const p = await requireToken(ctx, c);
  if (p.worker) throw new MorphuxError('forbidden', 'a worker token is accepted only by the internal worker API');
  return p;
}

/** A build worker's token (`morphux user add NAME --worker`); users' and admins' tokens are refused (403). */
export async function requireWorker(ctx: AppContext, c: Context): Promise<Principal> {
  const p = await requireToken(ctx, c);
  if (!p.worker) throw new MorphuxError('forbidden', 'the worker API takes a worker token (morphux user add NAME --worker)');
  return p;
}

export async function requireAdmin(ctx: AppContext, c: Context): Promise<Principal> {
  const p = await requireUser(ctx, c);
  if (!p.admin) throw new MorphuxError('forbidden', 'only an admin may do this');
  return p;
}

/** A maintainer of the package or an admin (403 otherwise; 401 without a valid token). */
export async function requireMaintainer(ctx: AppContext, c: Context, name: string): Promise<Principal> {
  const p = await requireUser(ctx, c);
  if (!(await ctx.owners.mayMaintain(p, name))) throw new MorphuxError('forbidden', `only a maintainer of ${name} or an admin may do this`);
  return p;
}
