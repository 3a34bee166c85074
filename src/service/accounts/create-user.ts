// A new account and its first token (shown once): admins over the API, the operator with
// `morphux user add`. A worker account (a build machine's) is never an admin.
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { userField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import type { AccountsContext } from './accounts-context.js';

export const createUser = defineAction({
  name: 'user.create',
  input: z.object({ name: userField, admin: z.boolean().optional(), worker: z.boolean().optional() }).strict(),
  bodyLimit: SMALL_BODY,
  run: async (ctx: AccountsContext, _actor, i) => {
    if (i.admin && i.worker) throw new MorphuxError('bad_request', 'a worker account cannot be an admin');
    const { user, token } = i.worker ? await ctx.users.createWorker(i.name) : await ctx.users.create(i.name, i.admin === true);
    ctx.log.info({ user: user.name, admin: user.admin, worker: !!user.worker }, 'user created');
    return { name: user.name, admin: user.admin, ...(user.worker ? { worker: true } : {}), token };
  },
});
