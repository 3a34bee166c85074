// Add or remove a package's (co-)maintainer: its owner or an admin (a co-maintainer cannot, so
// cannot remove the owner either); a build worker's account is never a maintainer; the last
// maintainer stays.
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { flagField, packageField, userField } from '../input-fields.js';
import { packageFacts } from '../package-facts.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import type { AccountsContext } from './accounts-context.js';

export const setMaintainer = defineAction({
  name: 'maintainer.set',
  input: z.object({ package: packageField, user: userField, on: flagField }).strict(),
  bodyLimit: SMALL_BODY,
  facts: async (ctx: AccountsContext, i) => {
    const pkg = await packageFacts(ctx.owners, i.package);
    const target = await ctx.users.get(i.user);
    if (!target && i.on) throw new MorphuxError('not_found', `no user ${i.user}`, { user: i.user });
    return { package: pkg, target: { name: i.user, worker: !!target?.worker } };
  },
  run: async (ctx: AccountsContext, _a, i) => {
    const owners = await ctx.owners.setMaintainer(i.package, i.user, i.on);
    ctx.log.info({ package: i.package, user: i.user, on: i.on }, 'maintainers changed');
    return { name: owners.name, maintainers: owners.maintainers, owner: owners.owner };
  },
});
