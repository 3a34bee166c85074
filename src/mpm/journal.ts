// The journal of the transaction under way, ROOT/var/lib/mpm/journal.json: its intent (every
// file move with its staged name and backup, the folders to make and to remove, the triggers),
// written before anything is moved. Pure decisions: roll forward or back, and how to undo one move.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MorphuxError } from '../domain/errors.js';
import { hostPath } from './fs/root-path.js';
import { atomicWrite } from '../lib/atomic-write.js';

const op = z.discriminatedUnion('op', [
  /** move `path` away to `backup` (deleted at commit) */
  z.object({ op: z.literal('del'), path: z.string(), backup: z.string() }),
  /** make the folder `path` (it did not exist) */
  z.object({ op: z.literal('mkdir'), path: z.string(), mode: z.number().int() }),
  /** move the staged `staged` to `path`; what was there first goes to `backup` */
  z.object({ op: z.literal('put'), path: z.string(), staged: z.string(), backup: z.string().nullable() }),
]);
export type Op = z.infer<typeof op>;

export const journalSchema = z.object({
  format: z.literal(1),
  txid: z.string().regex(/^[0-9a-z-]+$/),
  /** prepared: staged, moves may have begun (a crash rolls back); committing: every move done (a crash rolls forward) */
  state: z.enum(['prepared', 'committing']),
  command: z.string(),
  started_at: z.string(),
  /** in-root folder of this transaction's staged files and backups */
  staging: z.string(),
  ops: z.array(op),
  /** folders to remove after the commit when they are empty */
  rmdirs: z.array(z.string()),
  triggers: z.array(z.enum(['ldconfig'])),
});
export type Journal = z.infer<typeof journalSchema>;

export type Recovery = 'none' | 'roll-back' | 'roll-forward';

/** What the next mpm does with a leftover journal. */
export const recoveryAction = (j: Journal | null): Recovery => (!j ? 'none' : j.state === 'committing' ? 'roll-forward' : 'roll-back');

export type Step = { rename: [string, string] } | { rmdir: string };

/** The steps that undo one op, from what exists now; running them again after a crash is safe
 *  (each move of a put is undone by moving the new file back to its staged name first, so a
 *  file is never mistaken for the one it replaced). */
export function undoSteps(o: Op, exists: (p: string) => boolean): Step[] {
  switch (o.op) {
    case 'del':
      return exists(o.backup) ? [{ rename: [o.backup, o.path] }] : [];
    case 'mkdir':
      return [{ rmdir: o.path }];
    case 'put': {
      const steps: Step[] = [];
      if (!exists(o.staged) && exists(o.path)) steps.push({ rename: [o.path, o.staged] });
      if (o.backup && exists(o.backup)) steps.push({ rename: [o.backup, o.path] });
      return steps;
    }
  }
}

/** The steps that do one op, from what exists now (re-running a done op does nothing). */
export function doSteps(o: Op, exists: (p: string) => boolean): Step[] {
  switch (o.op) {
    case 'del':
      return exists(o.path) && !exists(o.backup) ? [{ rename: [o.path, o.backup] }] : [];
    case 'mkdir':
      return [];
    case 'put': {
      if (!exists(o.staged)) return [];
      const steps: Step[] = [];
      if (o.backup && exists(o.path) && !exists(o.backup)) steps.push({ rename: [o.path, o.backup] });
      steps.push({ rename: [o.staged, o.path] });
      return steps;
    }
  }
}

export async function readJournal(root: string, file: string): Promise<Journal | null> {
  let text: string;
  try {
    text = await readFile(hostPath(root, file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let r;
  try {
    r = journalSchema.safeParse(JSON.parse(text));
  } catch (e) {
    throw new MorphuxError('internal', `the journal ${hostPath(root, file)} is damaged (${(e as Error).message}); look at it by hand`);
  }
  if (!r.success) throw new MorphuxError('internal', `the journal ${hostPath(root, file)} is damaged (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}); look at it by hand`);
  return r.data;
}

export const writeJournal = (root: string, file: string, j: Journal) => atomicWrite(hostPath(root, file), JSON.stringify(j) + '\n');
