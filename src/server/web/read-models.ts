// What the pages show, read from the store's indexes and trees: recent submissions, the
// stable ones, recent failures, a package's page and a submission's page.
import { readdir } from 'node:fs/promises';
import type { PortIndexEntry } from '../../store/port-index.js';
import { readSubmission, type SubmissionView } from '../../store/read-submission.js';
import { storePaths } from '../../store/store-paths.js';
import type { BuildReport } from '../../store/submission-types.js';
import type { AppContext } from '../../service/app-context.js';

export type NamedEntry = PortIndexEntry & { name: string };

/** Every submission of every package (newest pkgid first). */
export async function allEntries(ctx: AppContext): Promise<ReadonlyArray<NamedEntry>> {
  return ctx.catalog.entries();
}

async function numbered<T>(ctx: AppContext, dir: string): Promise<T[]> {
  let names: string[] = [];
  try {
    names = await readdir(ctx.store.abs(dir));
  } catch {
    return [];
  }
  const ns = names.map((f) => /^(\d+)\.json$/.exec(f)).filter((m) => m).map((m) => Number(m![1])).sort((a, b) => a - b);
  const out: T[] = [];
  for (const n of ns) {
    const doc = await ctx.store.readJson<T>(`${dir}/${n}.json`);
    if (doc) out.push(doc);
  }
  return out;
}

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
  const view = await readSubmission(ctx.store, pkgid);
  const [reports, comments] = await Promise.all([
    numbered<BuildReport>(ctx, storePaths.reports(pkgid)),
    numbered<CommentView & { body?: string }>(ctx, storePaths.comments(pkgid)),
  ]);
  return { view, reports, comments: comments.map((c) => ({ ...c, text: c.text ?? c.body ?? '' })) };
}
