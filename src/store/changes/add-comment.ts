// Comments on a submission: meta/comments/<n>.json, numbered 1, 2, …; one store commit each.
import { changeMeta } from './change-meta.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nowIso, type CommentDoc } from '../../domain/submission.js';

export async function addComment(store: Store, pkgid: number, actor: string, text: string): Promise<CommentDoc> {
  return changeMeta(store, pkgid, `comment on ${pkgid}`, actor, async (tx) => {
    const n = tx.nextNumber(storePaths.comments(pkgid));
    const doc: CommentDoc = { n, pkgid, author: actor, text, created_at: nowIso() };
    await tx.writeJson(`${storePaths.comments(pkgid)}/${n}.json`, doc);
    return doc;
  });
}
