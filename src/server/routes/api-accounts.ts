// /api/v1/users (admins create users, or build workers' accounts, and get their first token),
// /api/v1/me and /api/v1/tokens (a user's own named tokens: list, add with an optional
// expires_at, revoke), /api/v1/repos (a registered user creates a package and becomes its owner)
// and /api/v1/ports/<name>/maintainers/<user> (its owner and admins add and remove maintainers).
// Each is a use case of service/accounts/ or service/create-package.ts; this file maps HTTP to it.
import { Hono, type Context } from 'hono';
import { isMorphuxError, MorphuxError } from '../../domain/errors.js';
import { isOperator } from '../../service/actor.js';
import type { AppContext } from '../../service/app-context.js';
import { createUser } from '../../service/accounts/create-user.js';
import { setMaintainer } from '../../service/accounts/set-maintainer.js';
import { addToken, listTokens, revokeToken } from '../../service/accounts/tokens.js';
import { createPackage } from '../../service/create-package.js';
import { perform } from '../../service/perform.js';
import { apiAct } from '../api-act.js';
import { apiCaller } from '../auth.js';

export function apiAccounts(ctx: AppContext): Hono {
  const app = new Hono();
  /** the signed-in user's own name (401 for nobody; the action refuses a worker) */
  const self = async (c: Context) => {
    const caller = await apiCaller(ctx, c);
    return { caller, user: caller.actor && !isOperator(caller.actor) ? caller.actor.name : '' };
  };

  app.post('/users', async (c) => c.json(await apiAct(ctx, c, createUser, {}), 201));

  app.get('/me', async (c) => {
    const { caller, user } = await self(c);
    const tokens = await perform(ctx, caller, listTokens, { user });
    const p = caller.actor as { name: string; admin: boolean };
    return c.json({ name: p.name, admin: p.admin, tokens });
  });

  app.get('/tokens', async (c) => {
    const { caller, user } = await self(c);
    const items = await perform(ctx, caller, listTokens, { user });
    return c.json({ items, total: items.length, next: null });
  });
  app.post('/tokens', async (c) => {
    const { user } = await self(c);
    return c.json(await apiAct(ctx, c, addToken, { user }), 201);
  });
  app.delete('/tokens/:token', async (c) => {
    const { user } = await self(c);
    return c.json(await apiAct(ctx, c, revokeToken, { user, token: c.req.param('token') }, 'none'));
  });

  for (const [method, on] of [['PUT', true], ['DELETE', false]] as const) {
    app.on(method, '/ports/:name/maintainers/:user', async (c) => {
      try {
        return c.json(await apiAct(ctx, c, setMaintainer, { package: c.req.param('name'), user: c.req.param('user'), on }, 'none'));
      } catch (e) {
        // a name that cannot be a package is no package here
        if (isMorphuxError(e, 'invalid_name') && e.data.kind === 'package name') throw new MorphuxError('not_found', 'no such package');
        throw e;
      }
    });
  }

  app.post('/repos', async (c) => {
    const owners = await apiAct(ctx, c, createPackage, {});
    return c.json({ name: owners.name, maintainers: owners.maintainers, owner: owners.owner, clone_url: `${ctx.publicUrl}/${owners.name}.git` }, 201);
  });
  return app;
}
