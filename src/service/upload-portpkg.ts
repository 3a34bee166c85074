// Submit over HTTP (mpwa's `port submit`): a portpkg .tgz uploaded by any registered user, checked
// like a push and then the same submission and build path (service/submit-portpkg.ts). Uploading
// a package nobody has created yet creates it, the uploader becoming its owner, as creating a repo
// would. A user's upload of someone else's package is built and reachable by pkgid, but never
// speaks for the package (its submitter_role says so).
import { z } from 'zod';
import { isMorphuxError } from '../domain/errors.js';
import { repoExists } from '../repos/create-repo.js';
import type { SubmissionInfo } from '../domain/submission.js';
import { actorName } from './actor.js';
import type { AppContext } from './app-context.js';
import { createPackageFor } from './create-package.js';
import { defineAction } from './perform.js';
import { checkPortpkg, submitPortpkg } from './submit-portpkg.js';

const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export async function uploadPortpkg(ctx: AppContext, tgz: Buffer, submitter: string, filename: string | null): Promise<SubmissionInfo> {
  const manifest = await checkPortpkg(ctx.config.portpkg, tgz);
  const name = manifest.name;
  if (!(await ctx.owners.get(name)) && !(await repoExists(ctx.layout.repos, name))) {
    try {
      await createPackageFor(ctx, name, submitter);
    } catch (e) {
      if (!isMorphuxError(e, 'already_exists')) throw e; // created meanwhile: fine
    }
  }
  return submitPortpkg(ctx, { tgz, submitter, source: { type: 'upload', filename }, expectName: name, expectVersion: manifest.version });
}

export const uploadSubmission = defineAction({
  name: 'submission.upload',
  input: z.object({
    tgz: z.instanceof(Buffer).refine((b) => b.length > 0, 'the body must be a portpkg .tgz'),
    filename: z.string().regex(FILENAME, 'must be a plain file name such as hello-1.0.tgz').nullable(),
  }).strict(),
  bodyLimit: (config) => config.server.body_limit_bytes,
  throttle: 'upload',
  run: (ctx: AppContext, actor, i) => uploadPortpkg(ctx, i.tgz, actorName(actor), i.filename),
});
