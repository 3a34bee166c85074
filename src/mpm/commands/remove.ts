// `mpm remove NAME…`: refused while a package that stays depends on one (unless --cascade);
// --orphans takes the dependencies nothing needs any more; config files the user changed stay.
import { readDb } from '../db.js';
import { confirm, describe } from '../install/summary.js';
import { planRemoval } from '../removal.js';
import { openRoot } from '../session.js';
import { apply, newTxid, preview, type ApplyInput } from './apply.js';
import type { CommandContext } from './context.js';
import { keptLines } from './install.js';

export async function mpmRemove(ctx: CommandContext, names: string[], o: { cascade: boolean; orphans: boolean }): Promise<void> {
  const s = await openRoot(ctx.root, { write: true });
  const db = await readDb(s.root, s.layout);
  const rp = planRemoval(db, names, o);
  const input: ApplyInput = {
    session: s, db, put: [], recordOnly: new Set(), remove: rp.remove, overwrite: false,
    archives: new Map(), command: `remove ${names.join(' ')}`, txid: newTxid(), stepDelayMs: ctx.stepDelayMs,
  };
  preview(input);
  const why = (n: string) => (rp.cascaded.includes(n) ? 'remove (--cascade)' : rp.orphans.includes(n) ? 'remove (orphan)' : 'remove') as 'remove';
  if (!ctx.json) {
    ctx.print(null, () => describe(rp.remove.map((n) => {
      const r = db.get(n)!;
      return { name: n, kind: why(n), from: r.version, to: null, pkgid: r.pkgid, explicit: r.explicit, download: 0, size: 0, sizeBefore: r.installed_size };
    })));
  }
  await confirm('Proceed with the removal?', ctx.yes);
  const { plan, triggers } = await apply(input);
  const result = {
    root: s.root, notes: s.notes,
    removed: rp.remove.map((n) => ({ name: n, version: db.get(n)!.version, pkgid: db.get(n)!.pkgid, why: rp.cascaded.includes(n) ? 'cascade' : rp.orphans.includes(n) ? 'orphan' : 'asked' })),
    kept_config: plan.keptConfig, triggers,
  };
  ctx.print(result, () => [
    ...s.notes,
    ...result.removed.map((r) => `removed ${r.name} ${r.version} (pkgid ${r.pkgid})${r.why === 'asked' ? '' : r.why === 'cascade' ? ' (--cascade)' : ' (orphan)'}`),
    ...keptLines(plan.keptConfig, []),
    ...triggers,
  ].join('\n'));
}
