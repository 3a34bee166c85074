// The journal of acknowledged operations of the crash harness, and the check that each one is in
// the store: a push or upload answered with its pkgid has its submission (name, version, commit or
// sha256), a version branch accepted without one has a submission of its commit, a comment or
// report answered with its number has that file with that text, an added tag or vote is there.
import path from 'node:path';
import { readJsonFile } from '../src/lib/atomic-write.js';
import type { TagsDoc, VotesDoc } from '../src/store/layout/read-submission.js';
import { storePaths } from '../src/store/layout/store-paths.js';
import type { BuildReport, CommentDoc, SubmissionInfo } from '../src/domain/submission.js';

export type Ack =
  | { kind: 'push'; pkgid: number; name: string; version: string; commit: string }
  | { kind: 'push_ref'; name: string; version: string; commit: string }
  | { kind: 'upload'; pkgid: number; name: string; version: string; sha256: string }
  | { kind: 'comment'; pkgid: number; n: number; text: string }
  | { kind: 'report'; pkgid: number; n: number; message: string }
  | { kind: 'tag'; pkgid: number; tag: string }
  | { kind: 'vote'; pkgid: number; user: string };

export type AckKind = Ack['kind'];

export async function checkJournal(storeRoot: string, journal: readonly Ack[]): Promise<string[]> {
  const read = <T>(rel: string) => readJsonFile<T>(path.join(storeRoot, rel)).catch(() => null);
  const lost: string[] = [];
  const submittedCommits = new Map<string, Set<string>>();
  const commitsOf = async (name: string) => {
    let s = submittedCommits.get(name);
    if (!s) {
      const ix = await read<{ submissions: Array<{ commit: string | null }> }>(storePaths.portIndex(name));
      s = new Set((ix?.submissions ?? []).map((x) => x.commit ?? ''));
      submittedCommits.set(name, s);
    }
    return s;
  };
  for (const a of journal) {
    const what = JSON.stringify(a);
    switch (a.kind) {
      case 'push':
      case 'upload': {
        const info = await read<SubmissionInfo>(storePaths.submissionInfo(a.pkgid));
        const ok = info && info.name === a.name && info.version === a.version &&
          (a.kind === 'push' ? info.source.type === 'git' && info.source.commit === a.commit : info.sha256 === a.sha256);
        if (!ok) lost.push(`${what}: submission_info is ${JSON.stringify(info)}`);
        break;
      }
      case 'push_ref':
        if (!(await commitsOf(a.name)).has(a.commit)) lost.push(`${what}: no submission of this commit`);
        break;
      case 'comment': {
        const c = await read<CommentDoc>(`${storePaths.comments(a.pkgid)}/${a.n}.json`);
        if (c?.text !== a.text) lost.push(`${what}: comment file is ${JSON.stringify(c)}`);
        break;
      }
      case 'report': {
        const r = await read<BuildReport>(storePaths.report(a.pkgid, a.n));
        if (r?.message !== a.message) lost.push(`${what}: report file is ${JSON.stringify(r)}`);
        break;
      }
      case 'tag': {
        const t = await read<TagsDoc>(storePaths.tags(a.pkgid));
        if (!t?.tags.some((x) => x.tag === a.tag)) lost.push(`${what}: tags.json is ${JSON.stringify(t)}`);
        break;
      }
      case 'vote': {
        const v = await read<VotesDoc>(storePaths.votes(a.pkgid));
        if (!v?.voters.some((x) => x.user === a.user)) lost.push(`${what}: votes.json is ${JSON.stringify(v)}`);
        break;
      }
    }
  }
  return lost;
}
