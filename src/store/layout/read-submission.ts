// Reads one submission's documents (from the last commit, for readers): what GET /api/v1/pkg/<pkgid> answers.
import { MorphuxError } from '../../domain/errors.js';
import type { TreeReader } from '../tree/committed-tree.js';
import { storePaths } from './store-paths.js';
import type { SubmissionInfo, SubmissionStatus } from '../../domain/submission.js';

export interface FlagsDoc {
  stable: boolean;
  history: Array<{ flag: 'stable'; action: 'set' | 'cleared'; by: string; at: string }>;
}
export interface TagsDoc {
  tags: Array<{ tag: string; by: string; at: string }>;
}
export interface VotesDoc {
  voters: Array<{ user: string; at: string }>;
}

export interface SubmissionView {
  submission: SubmissionInfo;
  status: SubmissionStatus;
  flags: { stable: boolean; history: FlagsDoc['history'] };
  tags: string[];
  votes: number;
  comments: number;
  reports: number;
}

async function countJson(tree: TreeReader, rel: string): Promise<number> {
  return (await tree.list(rel)).filter((f) => /^\d+\.json$/.test(f)).length;
}

export async function readSubmission(tree: TreeReader, pkgid: number): Promise<SubmissionView> {
  const [submission, status] = await Promise.all([
    tree.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid)),
    tree.readJson<SubmissionStatus>(storePaths.status(pkgid)),
  ]);
  if (!submission || !status) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
  const [flags, tags, votes, comments, reports] = await Promise.all([
    tree.readJson<FlagsDoc>(storePaths.flags(pkgid)),
    tree.readJson<TagsDoc>(storePaths.tags(pkgid)),
    tree.readJson<VotesDoc>(storePaths.votes(pkgid)),
    countJson(tree, storePaths.comments(pkgid)),
    countJson(tree, storePaths.reports(pkgid)),
  ]);
  // a status written before the rebuild check existed has no verdict: unchecked
  status.reproducible ??= 'unchecked';
  return {
    submission,
    status,
    flags: { stable: flags?.stable ?? false, history: flags?.history ?? [] },
    tags: (tags?.tags ?? []).map((t) => t.tag),
    votes: votes?.voters.length ?? 0,
    comments,
    reports,
  };
}
