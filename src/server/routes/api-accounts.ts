// /api/v1/users (admins create users, or build workers' accounts, and get their first token), /api/v1/me and /api/v1/tokens
// (a user's own named tokens: list, add with an optional expires_at, revoke), /api/v1/repos (any registered user creates a
// package and becomes its maintainer) and /api/v1/ports/<name>/maintainers/<user> (maintainers
// and admins add and remove co-maintainers).
import { Hono } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { createPackage } from '../../service/create-package.js';
import { checkPackageName } from '../../domain/names.js';
import { requireAdmin, requireMaintainer, requireUser } from '../auth.js';
import { readJsonBody } from '../read-json-body.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;

/** A new token's optional `expires_at`: an ISO 8601 UTC time in the future. */
function expiryOf(v: unknown): Date | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'string' && ISO_UTC.test(v) ? Date.parse(v) : NaN;
  if (!(t > Date.now())) throw new MorphuxError('bad_request', '"expires_at" must be a time in the future, ISO 8601 UTC (2030-01-31T00:00:00Z)');
  return new Date(t);
}

export function apiAccounts(ctx: AppContext): Hono {
  const app = new Hono();

  app.post('/users', async (c) => {
    await requireAdmin(ctx, c);
    const body = await readJsonBody(c);
    for (const k of ['admin', 'worker'] as const) {
      if (body[k] !== undefined && typeof body[k] !== 'boolean') throw new MorphuxError('bad_request', `"${k}" must be true or false`);
    }
    if (body.admin === true && body.worker === true) throw new MorphuxError('bad_request', 'a worker account cannot be an admin');
    const { user, token } = body.worker === true ? await ctx.users.createWorker(body.name as string) : await ctx.users.create(body.name as string, body.admin === true);
    return c.json({ name: user.name, admin: user.admin, ...(user.worker ? { worker: true } : {}), token }, 201);
  });

  app.get('/me', async (c) => {
    const p = await requireUser(ctx, c);
    return c.json({ name: p.name, admin: p.admin, tokens: await ctx.users.listTokens(p.name) });
  });

  app.get('/tokens', async (c) => {
    const p = await requireUser(ctx, c);
    const items = await ctx.users.listTokens(p.name);
    return c.json({ items, total: items.length, next: null });
  });

  app.post('/tokens', async (c) => {
    const p = await requireUser(ctx, c);
    const body = await readJsonBody(c);
    const { token, record } = await ctx.users.addToken(p.name, body.name as string, expiryOf(body.expires_at));
    return c.json({ ...record, token }, 201);
  });

  app.delete('/tokens/:token', async (c) => {
    const p = await requireUser(ctx, c);
    await ctx.users.revokeToken(p.name, c.req.param('token'));
    return c.json({ revoked: c.req.param('token') });
  });

  for (const [method, on] of [['PUT', true], ['DELETE', false]] as const) {
    app.on(method, '/ports/:name/maintainers/:user', async (c) => {
      await requireUser(ctx, c);
      const name = c.req.param('name');
      try {
        checkPackageName(name);
      } catch {
        throw new MorphuxError('not_found', `no package ${JSON.stringify(name.slice(0, 80))}`);
      }
      if (!(await ctx.owners.get(name))) throw new MorphuxError('not_found', `no package ${name}`);
      await requireMaintainer(ctx, c, name);
      const user = c.req.param('user');
      if (on && !(await ctx.users.get(user))) throw new MorphuxError('not_found', `no user ${user.slice(0, 80)}`, { user });
      const owners = await ctx.owners.setMaintainer(name, user, on);
      ctx.log.info({ package: name, user, on }, 'maintainers changed');
      return c.json({ name: owners.name, maintainers: owners.maintainers });
    });
  }

  app.post('/repos', async (c) => {
    const p = await requireUser(ctx, c);
    const body = await readJsonBody(c);
    const owners = await createPackage(ctx, body.name as string, p.name);
    return c.json({ name: owners.name, maintainers: owners.maintainers, clone_url: `${ctx.publicUrl}/${owners.name}.git` }, 201);
  });

  return app;
}
