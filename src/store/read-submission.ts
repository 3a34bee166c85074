// Reads one submission's documents from the tree: what GET /api/v1/pkg/<pkgid> answers.
import { readdir } from 'node:fs/promises';
import { MorphuxError } from '../domain/errors.js';
import { storePaths } from './store-paths.js';
import type { Store } from './store.js';
import type { SubmissionInfo, SubmissionStatus } from './submission-types.js';

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

async function countJson(store: Store, rel: string): Promise<number> {
  try {
    return (await readdir(store.abs(rel))).filter((f) => /^\d+\.json$/.test(f)).length;
  } catch {
    return 0;
  }
}

export async function readSubmission(store: Store, pkgid: number): Promise<SubmissionView> {
  const [submission, status] = await Promise.all([
    store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid)),
    store.readJson<SubmissionStatus>(storePaths.status(pkgid)),
  ]);
  if (!submission || !status) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
  const [flags, tags, votes, comments, reports] = await Promise.all([
    store.readJson<FlagsDoc>(storePaths.flags(pkgid)),
    store.readJson<TagsDoc>(storePaths.tags(pkgid)),
    store.readJson<VotesDoc>(storePaths.votes(pkgid)),
    countJson(store, storePaths.comments(pkgid)),
    countJson(store, storePaths.reports(pkgid)),
  ]);
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
