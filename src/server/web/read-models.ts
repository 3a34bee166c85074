// What the pages show beyond the catalog (store/port-catalog.ts): a submission page, with its
// tree, reports and comments read from the store.
import { readNumbered } from '../../store/tree/committed-tree.js';
import { readSubmission, type SubmissionView } from '../../store/layout/read-submission.js';
import { storePaths } from '../../store/layout/store-paths.js';
import { roleOf, type BuildReport, type RoleSource, type SubmitterRole } from '../../domain/submission.js';
import type { AppContext } from '../../service/app-context.js';


export interface CommentView {
  n: number;
  author: string;
  text: string;
  created_at: string;
}

/** Made by a plain user, not a maintainer or an admin of the package: such a submission is listed,
 *  built and reachable by its pkgid, but never speaks for the package (pages mark it). */
export const byPlainUser = (x: RoleSource): boolean => roleOf(x) === 'user';

export interface SubmissionPage {
  view: SubmissionView;
  /** the submitter's role as recorded with the submission (roleOf) */
  role: SubmitterRole;
  reports: BuildReport[];
  comments: CommentView[];
}

export async function submissionPage(ctx: AppContext, pkgid: number): Promise<SubmissionPage> {
  const view = await readSubmission(ctx.committed, pkgid);
  const [reports, comments] = await Promise.all([
    readNumbered<BuildReport>(ctx.committed, storePaths.reports(pkgid)),
    readNumbered<CommentView & { body?: string }>(ctx.committed, storePaths.comments(pkgid)),
  ]);
  return { view, role: roleOf(view.submission), reports, comments: comments.map((c) => ({ ...c, text: c.text ?? c.body ?? '' })) };
}
