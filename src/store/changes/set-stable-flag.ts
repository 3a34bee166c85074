// The "stable" flag: one current holder per package. Setting it on a submission clears it on the
// previous holder; every set and clear is kept in that submission's meta/flags.json history.
// One store commit; a change that changes nothing writes nothing.
import { MorphuxError } from '../../domain/errors.js';
import { changeMeta } from './change-meta.js';
import { readPortIndex } from '../layout/port-index.js';
import type { FlagsDoc } from '../layout/read-submission.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nowIso, type SubmissionStatus } from '../../domain/submission.js';

export async function setStableFlag(store: Store, pkgid: number, actor: string, on: boolean): Promise<FlagsDoc> {
  return changeMeta(store, pkgid, `${on ? 'flag' : 'unflag'} stable ${pkgid}`, actor, async (tx) => {
    const read = async (id: number): Promise<FlagsDoc> => (await store.readJson<FlagsDoc>(storePaths.flags(id))) ?? { stable: false, history: [] };
    const doc = await read(pkgid);
    if (doc.stable === on) return doc;
    const at = nowIso();
    if (on) {
      const status = await store.readJson<SubmissionStatus>(storePaths.status(pkgid));
      if (status?.state !== 'good') throw new MorphuxError('conflict', `submission ${pkgid} is ${status?.state}: only a good build can be flagged stable`, { state: status?.state });
      // the holder is found from the flags files: the index's stable fields of this commit's
      // changes are written only when the commit is made (change-meta.ts)
      for (const e of (await readPortIndex(store, tx.info.name))?.submissions ?? []) {
        if (e.pkgid === pkgid) continue;
        const old = await read(e.pkgid);
        if (!old.stable) continue;
        old.stable = false;
        old.history.push({ flag: 'stable', action: 'cleared', by: actor, at });
        await tx.writeJson(storePaths.flags(e.pkgid), old);
        tx.alsoTouched(e.pkgid);
      }
    }
    doc.stable = on;
    doc.history.push({ flag: 'stable', action: on ? 'set' : 'cleared', by: actor, at });
    await tx.writeJson(storePaths.flags(pkgid), doc);
    return doc;
  });
}
