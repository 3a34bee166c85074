// Running a group of store changes (or one alone) against the working tree: each change's fn
// through its own write handle, the finishers they share once after them, and what the group
// wrote gathered for the commit. A change that fails is told; when it had written part of itself
// the tree goes back to the last commit and the others run again without it. The store
// (store.ts) holds the lock, the queue of changes and the commit.
import type { Logger } from '../../lib/logger.js';
import { authorOf } from './store-git.js';
import { openTx, type Finisher, type Tx, type TxState } from './store-tx.js';

/** What runChanges needs of the store. */
export interface RunDeps {
  txState: TxState;
  log: Logger;
  /** back to the last commit (throws when that fails) */
  rollback: () => Promise<void>;
  /** back to the last commit; false, and the given changes told, when even that fails */
  rollbackFor: (changes: Pending[]) => Promise<boolean>;
}

/** What a group's changes did, ready to commit. */
export interface Ran {
  live: Pending[];
  results: Map<Pending, unknown>;
  touched: Set<string>;
  /** the bytes written at a path (null: removed), as the commit takes them without reading the tree */
  captured: Map<string, Buffer | null>;
  t0: number;
}


export interface Pending {
  message: string;
  actor: string;
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The commit message and author of a group: the change's own when alone, else each listed. */
export function describeGroup(group: Pending[]): [string, string] {
  if (group.length === 1) return [group[0].message, authorOf(group[0].actor)];
  const actors = new Set(group.map((c) => c.actor));
  const subject = `${group.length} changes: ${group[0].message}, …`;
  const body = group.map((c) => `- ${c.message} (${c.actor})`).join('\n');
  return [`${subject}\n\n${body}\n`, authorOf(actors.size === 1 ? group[0].actor : 'morphux')];
}

/**
 * Runs the changes in order, then the finishers they shared. Alone (single), the change's own
 * error is thrown; grouped, a change that fails is told, and when it had written part of itself
 * the tree goes back to the last commit (once `settle` has waited for the commit under way) and
 * the others run again. null when no change is left to commit.
 */
export async function runChanges(group: Pending[], single: boolean, settle: () => Promise<boolean>, deps: RunDeps): Promise<Ran | null> {
  let live = group;
  const t0 = performance.now();
  for (;;) {
    const results = new Map<Pending, unknown>();
    const touched = new Set<string>();
    const captured = new Map<string, Buffer | null>();
    const finishers = new Map<string, Finisher>();
    let rerun = false;
    for (const change of live) {
      const mine = new Set<string>();
      let shares = false;
      try {
        results.set(change, await change.fn(openTx(deps.txState, mine, captured, finishers, () => { shares = true; })));
        for (const p of mine) touched.add(p);
      } catch (e) {
        deps.log.error({ err: e, message: change.message }, 'store change failed; nothing of it is kept');
        live = live.filter((c) => c !== change);
        if (single) {
          await deps.rollback().catch((err) => deps.log.error({ err }, 'store rollback failed'));
          throw e;
        }
        change.reject(e);
        if (mine.size === 0 && !shares) continue; // refused before it wrote anything: the others stand
        // it wrote part of itself: back to the last commit, and the others again without it
        await settle();
        if (!(await deps.rollbackFor(live))) return null;
        rerun = true;
        break;
      }
    }
    if (rerun) continue;
    if (live.length === 0) return null;
    try {
      const tx = openTx(deps.txState, touched, captured, new Map(), () => { throw new Error('shared() in a finisher'); });
      for (const f of finishers.values()) await f.finish(tx, f.state);
    } catch (e) {
      deps.log.error({ err: e, changes: live.length }, 'store change failed in its finish; rolling back');
      await settle();
      await deps.rollback().catch((err) => deps.log.error({ err }, 'store rollback failed'));
      if (single) throw e;
      for (const c of live) c.reject(e);
      return null;
    }
    return { live, results, touched, captured, t0 };
  }
}

