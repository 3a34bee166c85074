// One mpm at a time changes a ROOT: ROOT/var/lib/mpm/lock holds the pid of its holder, created
// exclusively; a lock whose process is gone (killed) is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';

export interface Lock {
  /** the first folder the lock had to make (removed again by release(true)), or null */
  created: string | null;
  release(removeCreated?: boolean): Promise<void>;
}

/** Whether a process of this pid is alive (a signal 0 that is not refused as ESRCH). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid holding the lock file `file` when that process is alive, else null. */
export async function lockHolder(file: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(file, 'utf8')).trim());
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

export async function acquireLock(file: string): Promise<Lock> {
  const created = (await mkdir(path.dirname(file), { recursive: true })) ?? null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await lockHolder(file);
      if (holder !== null) throw new MorphuxError('unavailable', `another mpm (pid ${holder}) is changing this root (${file}); try again when it is done`, { pid: holder });
      if (attempt >= 3) throw new MorphuxError('unavailable', `cannot take the lock ${file}`);
      await rm(file, { force: true }); // its process is gone
    }
  }
  return {
    created,
    release: async (removeCreated = false) => {
      await rm(file, { force: true });
      if (removeCreated && created) await rm(created, { recursive: true, force: true });
    },
  };
}
