// One change to a submission's meta documents (flags, tags, votes, comments, user reports) as one
// store commit authored by the acting user, with the package's index entries refreshed from the
// tree in the same commit (the same derivation reindex and fsck use, so they always agree).
import { MorphuxError } from '../domain/errors.js';
import { deriveEntryMeta } from './derive-indexes.js';
import { updatePortIndex } from './port-index.js';
import { storePaths } from './store-paths.js';
import type { Store, Tx } from './store.js';
import type { SubmissionInfo } from './submission-types.js';

export interface MetaTx extends Tx {
  /** the submission being changed */
  info: SubmissionInfo;
  /** another pkgid of the same package whose meta this change also touches (a moved stable flag) */
  alsoTouched(pkgid: number): void;
}

export async function changeMeta<T>(store: Store, pkgid: number, message: string, actor: string, fn: (tx: MetaTx) => Promise<T>): Promise<T> {
  return store.transact(message, actor, async (tx) => {
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
    const touched = new Set<number>([pkgid]);
    const result = await fn({ ...tx, info, alsoTouched: (id) => touched.add(id) });
    const metas = new Map<number, Awaited<ReturnType<typeof deriveEntryMeta>>>();
    for (const id of touched) metas.set(id, await deriveEntryMeta(store, id));
    await updatePortIndex(tx, info.name, (ix) => {
      for (const e of ix.submissions) {
        const m = metas.get(e.pkgid);
        if (m) Object.assign(e, m);
      }
    });
    return result;
  });
}
