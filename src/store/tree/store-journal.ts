// The store's journal of touched paths (.git/morphux-journal): every path a change is about to
// write, rename or remove is appended here before the working tree changes, so that what was
// written but never committed can be put back to HEAD path by path (store-recovery.ts) without
// comparing the whole tree with the commit. The store keeps no git index: at a million
// submissions it would be ~5 million entries read and written whole at every commit.
//
// Written only by the holder of the store lock. Not fsynced: a SIGKILL loses nothing the page
// cache holds, and on ext4 (data=ordered) an append is committed to the filesystem's journal no
// later than the rename or write that follows it. Entries are NUL-terminated (paths may hold any
// other byte). Cleared once the working tree equals HEAD again (everything committed or rolled back).
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export const journalFile = (root: string) => path.join(root, '.git', 'morphux-journal');

export class StoreJournal {
  private readonly file: string;
  /** paths recorded since the last clear (one line each is enough) */
  private readonly recorded = new Set<string>();

  constructor(root: string) {
    this.file = journalFile(root);
  }

  /** Records that rel is about to change; call before touching the working tree. */
  record(rel: string): void {
    if (this.recorded.has(rel)) return;
    appendFileSync(this.file, `${rel}\0`);
    this.recorded.add(rel);
  }

  /** The working tree equals HEAD: nothing to put back. */
  clear(): void {
    if (this.recorded.size === 0) return;
    rmSync(this.file, { force: true });
    this.recorded.clear();
  }

  /** Forgets what this process recorded (after a rollback, which empties the file itself). */
  forget(): void {
    this.recorded.clear();
  }
}

/** The paths in a store's journal, [] when there is none (what a crash left to put back). */
export function readJournal(root: string): string[] {
  let text: string;
  try {
    text = readFileSync(journalFile(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  // an entry cut short by a crash has no NUL yet: the change it announced never started
  const entries = text.split('\0').slice(0, -1);
  return [...new Set(entries.filter((p) => p !== ''))];
}
