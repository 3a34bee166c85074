// A new package: its bare repo (hooks installed) and its record of maintainers, whose first is its
// owner. Any registered user may create one and becomes its owner; an admin or the operator may
// name another user as its first maintainer. An upload of a package nobody created creates it too.
import { z } from 'zod';
import type { PackageOwners } from '../accounts/package-owners.js';
import { MorphuxError } from '../domain/errors.js';
import { createRepo } from '../repos/create-repo.js';
import { actorName } from './actor.js';
import type { AccountsContext } from './accounts/accounts-context.js';
import { packageField, userField } from './input-fields.js';
import { defineAction, SMALL_BODY } from './perform.js';

/** names whose URLs the server uses itself (BASE/store.git is the store) */
const RESERVED = new Set(['store']);

export async function createPackageFor(ctx: Omit<AccountsContext, 'config'>, name: string, maintainer: string): Promise<PackageOwners> {
  if (RESERVED.has(name)) throw new MorphuxError('invalid_name', `${name} is a reserved name`, { kind: 'package name' });
  const user = await ctx.users.get(maintainer);
  if (!user) throw new MorphuxError('not_found', `no user ${maintainer}`, { user: maintainer });
  if (user.worker) throw new MorphuxError('forbidden', `${maintainer} is a build worker's account; it cannot maintain a package`, { user: maintainer });
  await createRepo(ctx.layout.repos, name); // throws already_exists
  const owners: PackageOwners = { name, maintainers: [maintainer], owner: maintainer, created_at: new Date().toISOString() };
  await ctx.owners.put(owners);
  ctx.log.info({ package: name, maintainer }, 'package created');
  return owners;
}

export const createPackage = defineAction({
  name: 'package.create',
  input: z.object({ name: packageField, maintainer: userField.optional() }).strict(),
  bodyLimit: SMALL_BODY,
  facts: async (_ctx: AccountsContext, i, actor) => ({ subjectUser: i.maintainer ?? actorName(actor) }),
  run: (ctx: AccountsContext, actor, i) => createPackageFor(ctx, i.name, i.maintainer ?? actorName(actor)),
});
