// Opening a ROOT for a command: checks --root, finds mpm's folder, and before anything reads the
// database finishes or rolls back a transaction a crash left (under the lock), clearing leftover
// staging. withLock runs a transaction's writing part under the lock.
import { readdir, realpath, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { isAtomicTemp as isTempName } from '../lib/atomic-write.js';
import { hostPath, lstatOrNull, resolveInRoot } from './fs/root-path.js';
import { readJournal } from './journal.js';
import { acquireLock, lockHolder, type Lock } from './lock.js';
import { layoutOf, MPM_DIR, type Layout } from './layout.js';
import { recover } from './transaction.js';
import { runTriggers } from './triggers.js';

export interface RootSession {
  /** ROOT, absolute and real */
  root: string;
  layout: Layout;
  /** what opening did (a transaction finished or rolled back) */
  notes: string[];
}

export async function openRoot(rootArg: string, o: { write: boolean }): Promise<RootSession> {
  let root: string;
  try {
    root = await realpath(rootArg);
    if (!(await stat(root)).isDirectory()) throw new Error();
  } catch {
    throw new MorphuxError('bad_request', `--root ${rootArg} is not a directory`);
  }
  const layout = layoutOf(path.posix.dirname(resolveInRoot(root, `${MPM_DIR}/installed`)));
  const s: RootSession = { root, layout, notes: [] };
  if (!(await leftovers(s))) return s;
  const holder = await lockHolder(hostPath(root, layout.lock));
  if (holder !== null) {
    if (o.write) throw new MorphuxError('unavailable', `another mpm (pid ${holder}) is changing ${root}; try again when it is done`, { pid: holder });
    s.notes.push(`another mpm (pid ${holder}) is changing ${root}: what follows may change under it`);
    return s;
  }
  const lock = await acquireLock(hostPath(root, layout.lock));
  try {
    await recoverUnderLock(s);
  } finally {
    await lock.release();
  }
  return s;
}

/** Whether a crash left anything: a journal, staging, a lock, a journal's temp file. */
async function leftovers(s: RootSession): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(hostPath(s.root, s.layout.dir));
  } catch {
    return false;
  }
  if (names.some((n) => n === 'journal.json' || n === 'lock' || isTempName(n))) return true;
  return names.includes('staging');
}

async function recoverUnderLock(s: RootSession): Promise<void> {
  const { root, layout } = s;
  const j = await readJournal(root, layout.journal);
  if (j) {
    const done = await recover(root, layout, j);
    s.notes.push(done === 'roll-forward'
      ? `finished the interrupted transaction ${j.txid} (${j.command})`
      : `rolled back the interrupted transaction ${j.txid} (${j.command})`);
    if (done === 'roll-forward') s.notes.push(...(await runTriggers(root, j.triggers)));
  }
  const dir = hostPath(root, layout.dir);
  for (const n of await readdir(dir)) if (isTempName(n)) await rm(path.join(dir, n), { force: true });
  const staging = hostPath(root, layout.staging);
  if (lstatOrNull(staging)) {
    for (const n of await readdir(staging)) await rm(path.join(staging, n), { recursive: true, force: true });
    await rmdir(staging).catch(() => {});
  }
}

/** Runs `fn` holding ROOT's lock (after finishing any transaction left meanwhile). When `fn` fails
 *  before it began to change ROOT (`started` still false), the folders the lock made are removed:
 *  a refused command leaves ROOT as it was. */
export async function withLock<T>(s: RootSession, fn: (state: { started: boolean }) => Promise<T>): Promise<T> {
  const lock: Lock = await acquireLock(hostPath(s.root, s.layout.lock));
  const state = { started: false };
  try {
    await recoverUnderLock(s);
    const out = await fn(state);
    await lock.release();
    return out;
  } catch (e) {
    await lock.release(!state.started);
    throw e;
  }
}
