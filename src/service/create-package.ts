// A new package: its bare repo (hooks installed) and its maintainer record. Any registered user
// may create one and becomes its maintainer.
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName } from '../domain/names.js';
import { createRepo } from '../repos/create-repo.js';
import type { AppContext } from './app-context.js';
import type { PackageOwners } from '../accounts/package-owners.js';

/** names whose URLs the server uses itself (BASE/store.git is the store) */
const RESERVED = new Set(['store']);

export async function createPackage(ctx: AppContext, name: string, maintainer: string): Promise<PackageOwners> {
  checkPackageName(name);
  if (RESERVED.has(name)) throw new MorphuxError('invalid_name', `${name} is a reserved name`, { kind: 'package name' });
  const user = await ctx.users.get(maintainer);
  if (!user) throw new MorphuxError('not_found', `no user ${maintainer}`, { user: maintainer });
  if (user.worker) throw new MorphuxError('forbidden', `${maintainer} is a build worker's account; it cannot maintain a package`, { user: maintainer });
  await createRepo(ctx.layout.repos, name); // throws already_exists
  const owners: PackageOwners = { name, maintainers: [maintainer], created_at: new Date().toISOString() };
  await ctx.owners.put(owners);
  ctx.log.info({ package: name, maintainer }, 'package created');
  return owners;
}
