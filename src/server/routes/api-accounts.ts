// /api/v1/users (admins create users and get their first token) and /api/v1/repos (any
// registered user creates a package and becomes its maintainer).
import { Hono } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { createPackage } from '../../service/create-package.js';
import { requireAdmin, requireUser } from '../auth.js';
import { readJsonBody } from '../read-json-body.js';

export function apiAccounts(ctx: AppContext): Hono {
  const app = new Hono();

  app.post('/users', async (c) => {
    await requireAdmin(ctx, c);
    const body = await readJsonBody(c);
    if (body.admin !== undefined && typeof body.admin !== 'boolean') throw new MorphuxError('bad_request', '"admin" must be true or false');
    const { user, token } = await ctx.users.create(body.name as string, body.admin === true);
    return c.json({ name: user.name, admin: user.admin, token }, 201);
  });

  app.post('/repos', async (c) => {
    const p = await requireUser(ctx, c);
    const body = await readJsonBody(c);
    const owners = await createPackage(ctx, body.name as string, p.name);
    return c.json({ name: owners.name, maintainers: owners.maintainers, clone_url: `${ctx.publicUrl}/${owners.name}.git` }, 201);
  });

  return app;
}
