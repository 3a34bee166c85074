// Votes on a submission (meta/votes.json): one per user; voting twice or withdrawing a vote never
// cast writes nothing. One store commit per change.
import { changeMeta } from './change-meta.js';
import type { VotesDoc } from '../layout/read-submission.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nowIso } from '../../domain/submission.js';

export async function setVote(store: Store, pkgid: number, actor: string, on: boolean): Promise<VotesDoc> {
  return changeMeta(store, pkgid, `${on ? 'vote for' : 'withdraw vote on'} ${pkgid}`, actor, async (tx) => {
    const doc = (await store.readJson<VotesDoc>(storePaths.votes(pkgid))) ?? { voters: [] };
    const has = doc.voters.some((v) => v.user === actor);
    if (has === on) return doc;
    if (on) doc.voters.push({ user: actor, at: nowIso() });
    else doc.voters = doc.voters.filter((v) => v.user !== actor);
    await tx.writeJson(storePaths.votes(pkgid), doc);
    return doc;
  });
}
