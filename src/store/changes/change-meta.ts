// One change to a submission's meta documents (flags, tags, votes, comments, user reports),
// committed with the package's index entries refreshed from the tree (the same derivation reindex
// and fsck use, so they always agree). A group change: under load, changes made at the same
// moment share one store commit, which lists each with its actor (Store.transact).
import { MorphuxError } from '../../domain/errors.js';
import { deriveDocsMeta, type DocsMeta } from '../layout/derive-indexes.js';
import { updatePortIndex } from '../layout/port-index.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store, Tx } from '../tree/store.js';
import type { SubmissionInfo } from '../../domain/submission.js';

export interface MetaTx extends Tx {
  /** the submission being changed */
  info: SubmissionInfo;
  /** another pkgid of the same package whose meta this change also touches (a moved stable flag) */
  alsoTouched(pkgid: number): void;
  /** this change added a user report with status failed (the entry's failed_reports goes up by one;
   * recounting every report on each change would make a change cost grow with the reports) */
  failedReportAdded(): void;
}

interface IndexRefresh {
  /** pkgids whose meta changed, and the failed user reports each gained */
  failedAdded: Map<number, number>;
}

export async function changeMeta<T>(store: Store, pkgid: number, message: string, actor: string, fn: (tx: MetaTx) => Promise<T>): Promise<T> {
  return store.transact(message, actor, async (tx) => {
    const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
    const touched = new Set<number>([pkgid]);
    let failedAdded = 0;
    const result = await fn({ ...tx, info, alsoTouched: (id) => touched.add(id), failedReportAdded: () => { failedAdded++; } });
    // the package's index is refreshed once for all the meta changes of a commit
    const refresh = tx.shared<IndexRefresh>(`index:${info.name}`, () => ({ failedAdded: new Map() }), async (ftx, r) => {
      const metas = new Map<number, DocsMeta>();
      for (const id of r.failedAdded.keys()) metas.set(id, await deriveDocsMeta(store, id));
      await updatePortIndex(ftx, info.name, (ix) => {
        for (const e of ix.submissions) {
          const m = metas.get(e.pkgid);
          if (m) Object.assign(e, m);
          e.failed_reports += r.failedAdded.get(e.pkgid) ?? 0;
        }
      });
    });
    for (const id of touched) refresh.failedAdded.set(id, (refresh.failedAdded.get(id) ?? 0) + (id === pkgid ? failedAdded : 0));
    return result;
  }, { group: true });
}
