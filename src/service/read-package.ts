// A package as readers see it: its index (null before its first submission) and its maintainers
// record; not_found for a name that cannot be a package or that nobody created.
import type { PackageOwners } from '../accounts/package-owners.js';
import { MorphuxError } from '../domain/errors.js';
import { isPackageName } from '../domain/names.js';
import { repoExists } from '../repos/create-repo.js';
import type { PortIndex } from '../store/layout/port-index.js';
import type { AppContext } from './app-context.js';

export async function readPackage(ctx: Pick<AppContext, 'catalog' | 'owners' | 'layout'>, name: string): Promise<{ index: PortIndex | null; owners: PackageOwners | null }> {
  if (!isPackageName(name)) throw new MorphuxError('not_found', `no package ${JSON.stringify(name.slice(0, 80))}`);
  const [index, owners] = await Promise.all([ctx.catalog.get(name), ctx.owners.get(name)]);
  if (!index && !owners && !(await repoExists(ctx.layout.repos, name))) throw new MorphuxError('not_found', `no package ${name}`);
  return { index, owners };
}
