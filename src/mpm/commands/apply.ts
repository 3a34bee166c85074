// The writing half every changing command shares: plan the transaction against ROOT (conflicts
// refused before anything is written), then under the lock plan it again against the same
// database, stage the archives and the records, run the transaction and the triggers.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import { conflictSummary, planChanges, type ChangePlan } from '../changes.js';
import { dbFingerprint, readDb, recordJson, type Db, type PackageRecord } from '../db.js';
import { hostPath, RootDisk } from '../fs/root-path.js';
import { scanArchive } from '../install/extract.js';
import type { Journal } from '../journal.js';
import { withLock, type RootSession } from '../session.js';
import { runTransaction } from '../transaction.js';
import { runTriggers } from '../triggers.js';

export interface ApplyInput {
  session: RootSession;
  /** the database the change was computed from */
  db: Db;
  put: PackageRecord[];
  recordOnly: Set<string>;
  remove: string[];
  overwrite: boolean;
  /** the downloaded, checked archive of each package of `put` not in `recordOnly` */
  archives: Map<string, string>;
  command: string;
  txid: string;
  stepDelayMs?: number;
}

export const newTxid = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** The transaction's plan against ROOT as it is; conflict when anything is in the way. */
export function preview(i: ApplyInput, db: Db = i.db): ChangePlan {
  const plan = planChanges({
    db, put: i.put, recordOnly: i.recordOnly, remove: i.remove, overwrite: i.overwrite,
    layout: i.session.layout, staging: `${i.session.layout.staging}/${i.txid}`,
  }, new RootDisk(i.session.root));
  if (plan.conflicts.length) throw new MorphuxError('conflict', conflictSummary(plan.conflicts), { conflicts: plan.conflicts.map((c) => ({ path: c.path, package: c.package, other: c.other, kind: c.kind })) });
  return plan;
}

export async function apply(i: ApplyInput): Promise<{ plan: ChangePlan; triggers: string[] }> {
  const { root, layout } = i.session;
  const plan = await withLock(i.session, async (state) => {
    const db = await readDb(root, layout);
    if (dbFingerprint(db) !== dbFingerprint(i.db)) throw new MorphuxError('conflict', 'the installed packages changed while this command ran; run it again');
    const plan = preview(i, db);
    state.started = true;
    await mkdir(hostPath(root, layout.installed), { recursive: true });
    const staging = `${layout.staging}/${i.txid}`;
    const journal: Journal = {
      format: 1, txid: i.txid, state: 'prepared', command: i.command, started_at: new Date().toISOString(),
      staging, ops: plan.ops, rmdirs: plan.rmdirs, triggers: plan.ldconfig ? ['ldconfig'] : [],
    };
    await runTransaction({
      root, layout, journal, stepDelayMs: i.stepDelayMs,
      stage: async (host) => {
        i.put.forEach((r, k) => {
          if (i.recordOnly.has(r.name)) return;
          const dir = path.join(host, `p${k}`);
          mkdirSync(dir);
          scanArchive(i.archives.get(r.name)!, r.name, r.files, (index) => path.join(dir, String(index)));
        });
        mkdirSync(path.join(host, 'db'));
        for (const r of plan.records) writeSynced(path.join(host, 'db', `${r.name}.json`), recordJson(r));
      },
    });
    return plan;
  });
  return { plan, triggers: await runTriggers(root, plan.ldconfig ? ['ldconfig'] : []) };
}

function writeSynced(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
