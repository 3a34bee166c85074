// What the pages show beyond the catalog (store/port-catalog.ts): a submission page, with its
// tree, reports and comments read from the store.
import { readNumbered } from '../../store/committed-tree.js';
import { readSubmission, type SubmissionView } from '../../store/read-submission.js';
import { storePaths } from '../../store/store-paths.js';
import type { BuildReport } from '../../store/submission-types.js';
import type { AppContext } from '../../service/app-context.js';


export interface CommentView {
  n: number;
  author: string;
  text: string;
  created_at: string;
}

export interface SubmissionPage {
  view: SubmissionView;
  reports: BuildReport[];
  comments: CommentView[];
}

export async function submissionPage(ctx: AppContext, pkgid: number): Promise<SubmissionPage> {
  const view = await readSubmission(ctx.committed, pkgid);
  const [reports, comments] = await Promise.all([
    readNumbered<BuildReport>(ctx.committed, storePaths.reports(pkgid)),
    readNumbered<CommentView & { body?: string }>(ctx.committed, storePaths.comments(pkgid)),
  ]);
  return { view, reports, comments: comments.map((c) => ({ ...c, text: c.text ?? c.body ?? '' })) };
}
