// Submit over HTTP (mpwa's `port submit`): a portpkg .tgz uploaded by any registered user, checked
// like a push and then the same submission and build path (service/submit-portpkg.ts). Uploading
// a package nobody has created yet creates it, the uploader becoming its maintainer, as creating
// a repo would.
import { repoExists } from '../repos/create-repo.js';
import type { SubmissionInfo } from '../store/submission-types.js';
import type { AppContext } from './app-context.js';
import { createPackage } from './create-package.js';
import { checkPortpkg, submitPortpkg } from './submit-portpkg.js';
import { isMorphuxError } from '../domain/errors.js';

export async function uploadPortpkg(ctx: AppContext, tgz: Buffer, submitter: string, filename: string | null): Promise<SubmissionInfo> {
  const manifest = await checkPortpkg(ctx.config.portpkg, tgz);
  const name = manifest.name;
  if (!(await ctx.owners.get(name)) && !(await repoExists(ctx.layout.repos, name))) {
    try {
      await createPackage(ctx, name, submitter);
    } catch (e) {
      if (!isMorphuxError(e, 'already_exists')) throw e; // created meanwhile: fine
    }
  }
  return submitPortpkg(ctx, { tgz, submitter, source: { type: 'upload', filename }, expectName: name, expectVersion: manifest.version });
}
