// Whether a principal may push to a package's repo: authorize.ts's `push` row over the package's
// maintainers (a repo nobody created a record for: admins only).
import type { PackageOwnersStore } from '../accounts/package-owners.js';
import type { Principal } from '../domain/principal.js';
import { allowed } from './authorize.js';
import { knownPackageFacts } from './package-facts.js';

export async function mayPush(owners: PackageOwnersStore, p: Principal, repo: string): Promise<boolean> {
  return allowed('push', p, { package: await knownPackageFacts(owners, repo) });
}
