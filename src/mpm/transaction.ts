// One transaction on ROOT: everything staged under ROOT/var/lib/mpm/staging/<txid>/ (same file
// system, so moves are renames), the journal written ('prepared'), each file moved into place with
// what it replaces kept as a backup, the journal flipped to 'committing', then backups, staging and
// journal removed. A failure before 'committing' undoes the moves; recover() finishes or undoes a
// transaction a crash interrupted.
import { lstatSync } from 'node:fs';
import { chmod, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../lib/atomic-write.js';
import { fsyncDirSync } from './fs/durable.js';
import { hostPath } from './fs/root-path.js';
import { doSteps, recoveryAction, undoSteps, writeJournal, type Journal, type Step } from './journal.js';
import type { Layout } from './layout.js';

export interface TxOptions {
  root: string;
  layout: Layout;
  journal: Journal;
  /** writes the staged files (and database records) under ROOT+journal.staging */
  stage: (stagingHost: string) => Promise<void>;
  /** a pause between moves, and 20 of them once committed (tests widen the windows a kill may hit) */
  stepDelayMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTransaction(o: TxOptions): Promise<void> {
  const { root, layout } = o;
  const j: Journal = { ...o.journal, state: 'prepared' };
  const stagingHost = hostPath(root, j.staging);
  await mkdir(path.join(stagingHost, 'b'), { recursive: true });
  try {
    await o.stage(stagingHost);
    await fsyncDir(stagingHost);
  } catch (e) {
    await rm(stagingHost, { recursive: true, force: true });
    throw e;
  }
  await writeJournal(root, layout.journal, j);
  try {
    for (const op of j.ops) {
      if (o.stepDelayMs) await sleep(o.stepDelayMs);
      if (op.op === 'mkdir') await makeDir(hostPath(root, op.path), op.mode);
      else await runSteps(root, doSteps(op, (p) => exists(root, p)));
    }
    syncFolders(root, j);
  } catch (e) {
    await rollBack(root, layout, j);
    throw e;
  }
  await writeJournal(root, layout.journal, { ...j, state: 'committing' });
  if (o.stepDelayMs) await sleep(o.stepDelayMs * 20);
  await finish(root, layout, j);
}

/** Finishes (committing) or undoes (prepared) the transaction of a leftover journal. */
export async function recover(root: string, layout: Layout, j: Journal): Promise<'roll-forward' | 'roll-back'> {
  const action = recoveryAction(j);
  if (action === 'roll-forward') await finish(root, layout, j);
  else await rollBack(root, layout, j);
  return action as 'roll-forward' | 'roll-back';
}

async function rollBack(root: string, layout: Layout, j: Journal): Promise<void> {
  for (const op of [...j.ops].reverse()) await runSteps(root, undoSteps(op, (p) => exists(root, p)));
  syncFolders(root, j);
  await dropStaging(root, layout, j);
}

async function finish(root: string, layout: Layout, j: Journal): Promise<void> {
  for (const d of j.rmdirs) await runSteps(root, [{ rmdir: d }]);
  await dropStaging(root, layout, j);
}

/** Removes the transaction's staging folder (and the staging folder when it is empty), then the journal. */
async function dropStaging(root: string, layout: Layout, j: Journal): Promise<void> {
  await rm(hostPath(root, j.staging), { recursive: true, force: true });
  await rmdir(hostPath(root, layout.staging)).catch(() => {});
  await rm(hostPath(root, layout.journal), { force: true });
  await fsyncDir(hostPath(root, layout.dir));
}

const exists = (root: string, p: string) => {
  try {
    lstatSync(hostPath(root, p));
    return true;
  } catch {
    return false;
  }
};

async function makeDir(host: string, mode: number): Promise<void> {
  try {
    await mkdir(host, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(host).isDirectory()) throw e;
    return; // there already (a retry): its mode stays
  }
  await chmod(host, mode); // mkdir's mode goes through the umask
}

async function runSteps(root: string, steps: Step[]): Promise<void> {
  for (const s of steps) {
    if ('rename' in s) {
      await rename(hostPath(root, s.rename[0]), hostPath(root, s.rename[1]));
      continue;
    }
    try {
      await rmdir(hostPath(root, s.rmdir));
    } catch (e) {
      if (!['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  }
}

/** fsyncs every folder a move of the journal touched, so the moves are on disk before the state changes. */
function syncFolders(root: string, j: Journal): void {
  const dirs = new Set<string>();
  for (const op of j.ops) {
    dirs.add(path.posix.dirname(op.path));
    if (op.op === 'put') dirs.add(path.posix.dirname(op.staged));
    if (op.op !== 'mkdir' && op.backup) dirs.add(path.posix.dirname(op.backup));
  }
  for (const d of dirs) {
    try {
      fsyncDirSync(hostPath(root, d));
    } catch { /* gone (rolled back) */ }
  }
}
