// The one path every submission takes, pushed or uploaded: check the archive and its manifest,
// create the submission in the store (which queues its build in the same commit), then hand
// the job to the queue for every configured architecture.
import { MorphuxError } from '../domain/errors.js';
import { parseManifest, type Manifest } from '../domain/manifest.js';
import { createSubmission } from '../store/changes/create-submission.js';
import type { SubmissionInfo, SubmissionSource, SubmitterRole } from '../domain/submission.js';
import { inspectPortpkg, portpkgLimits } from '../portpkg/unpack-portpkg.js';
import type { Config } from '../config/config-schema.js';
import type { AppContext } from './app-context.js';

export interface SubmitInput {
  tgz: Buffer;
  submitter: string;
  source: SubmissionSource;
  /** the package the archive must be for (the repo's name, or the upload's target) */
  expectName?: string;
  expectVersion?: string;
  /** the manifest checkPortpkg already returned for these very bytes, with these expectations
   *  and the config's limits (pre-receive's check, kept by pushed-archives.ts): not checked again */
  checked?: Manifest;
}

/** The archive's manifest once the archive passed every check (limits: the config's `portpkg`). */
export async function checkPortpkg(limits: Config['portpkg'], tgz: Buffer, expectName?: string, expectVersion?: string): Promise<Manifest> {
  const contents = await inspectPortpkg(tgz, portpkgLimits(limits));
  const manifest = parseManifest(contents.manifest);
  if (expectName !== undefined && manifest.name !== expectName) {
    throw new MorphuxError('name_mismatch', `package.json says name ${manifest.name}, expected ${expectName}`, { name: manifest.name });
  }
  if (expectVersion !== undefined && manifest.version !== expectVersion) {
    throw new MorphuxError('version_mismatch', `package.json says version ${manifest.version}, expected ${expectVersion}`);
  }
  return manifest;
}

/**
 * Whether `submitter` speaks for package `name` now: an admin (never a worker account), else one
 * of its maintainers, else a plain user. Recorded with the submission (submission_info.json
 * `submitter_role`) and never recomputed: later changes to maintainers or admins do not change
 * what an existing submission may stand for.
 */
export async function submitterRole(ctx: Pick<AppContext, 'users' | 'owners'>, submitter: string, name: string): Promise<SubmitterRole> {
  const user = await ctx.users.get(submitter);
  if (user?.admin && !user.worker) return 'admin';
  if ((await ctx.owners.get(name))?.maintainers.includes(submitter)) return 'maintainer';
  return 'user';
}

export async function submitPortpkg(ctx: AppContext, input: SubmitInput): Promise<SubmissionInfo> {
  const manifest = input.checked ?? (await checkPortpkg(ctx.config.portpkg, input.tgz, input.expectName, input.expectVersion));
  const role = await submitterRole(ctx, input.submitter, manifest.name);
  const info = await createSubmission(ctx.store, { manifest, submitter: input.submitter, submitterRole: role, source: input.source, tgz: input.tgz });
  for (const arch of ctx.config.builder.arches) await ctx.queue.enqueue({ pkgid: info.pkgid, arch });
  ctx.log.info({ pkgid: info.pkgid, name: info.name, version: info.version, submitter: info.submitter, role, source: info.source.type }, 'submission queued');
  return info;
}

export function pkgurl(ctx: AppContext, pkgid: number): string {
  return `${ctx.publicUrl}/pkg/${pkgid}`;
}
