// Where mpm keeps its state inside ROOT (in-root paths under the physical /var/lib/mpm): the
// database, the journal of the transaction under way, its staging folders and the lock.
import path from 'node:path';

export const MPM_DIR = '/var/lib/mpm';

export interface Layout {
  dir: string;
  installed: string;
  journal: string;
  staging: string;
  lock: string;
}

export const layoutOf = (dir: string): Layout => ({
  dir,
  installed: path.posix.join(dir, 'installed'),
  journal: path.posix.join(dir, 'journal.json'),
  staging: path.posix.join(dir, 'staging'),
  lock: path.posix.join(dir, 'lock'),
});

export const recordPath = (l: Layout, name: string) => path.posix.join(l.installed, `${name}.json`);
