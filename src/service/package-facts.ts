// The facts authorize.ts decides on, read from where they live: a package's maintainers and owner
// (DATA/packages), the package a submission belongs to (the store).
import type { PackageOwnersStore } from '../accounts/package-owners.js';
import { MorphuxError } from '../domain/errors.js';
import { storePaths } from '../store/layout/store-paths.js';
import type { Store } from '../store/tree/store.js';
import type { SubmissionInfo } from '../domain/submission.js';
import type { Facts } from './authorize.js';

export type PackageFacts = NonNullable<Facts['package']>;

/** A package's maintainers and owner; not_found when nobody created it. */
export async function packageFacts(owners: PackageOwnersStore, name: string): Promise<PackageFacts> {
  const o = await owners.get(name);
  if (!o) throw new MorphuxError('not_found', `no package ${name}`, { name });
  return { name, maintainers: o.maintainers, owner: o.owner ?? o.maintainers[0] };
}

/** The submission a meta action is about (not_found when there is none) and its package's facts. */
export async function submissionFacts(ctx: { store: Store; owners: PackageOwnersStore }, pkgid: number): Promise<{ info: SubmissionInfo; package: PackageFacts }> {
  const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
  if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
  return { info, package: await knownPackageFacts(ctx.owners, info.name) };
}

/** A package's facts, or none of its own (no maintainers: admins only) when it has no record. */
export async function knownPackageFacts(owners: PackageOwnersStore, name: string): Promise<PackageFacts> {
  const o = await owners.get(name);
  return { name, maintainers: o?.maintainers ?? [], owner: o?.owner ?? o?.maintainers[0] ?? '' };
}
