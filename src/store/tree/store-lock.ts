// The store's cross-process lock (DATA/state/store.lock, proper-lockfile), so operator commands can
// write while the server runs. Its holder writes "<pid> <host>" beside it; a lock whose holder is
// gone (SIGKILLed mid-change) is broken at once rather than after the lock's 15 s staleness. Two
// processes starting at the same moment after a crash could both break it; then the lock's own
// staleness check is what is left.
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from '../../lib/logger.js';

export async function withStoreLock<T>(stateDir: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  const lockPath = path.join(stateDir, 'store.lock');
  const opts = { lockfilePath: lockPath, retries: { retries: 600, minTimeout: 20, maxTimeout: 200 }, stale: 15_000, realpath: false };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(stateDir, { ...opts, retries: 0 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    await breakDeadLock(lockPath, log);
    release = await lockfile.lock(stateDir, opts);
  }
  await writeFile(`${lockPath}.owner`, `${process.pid} ${os.hostname()}\n`);
  try {
    return await fn();
  } finally {
    await rm(`${lockPath}.owner`, { force: true }).catch(() => {});
    await release().catch(() => {});
  }
}

async function breakDeadLock(lockPath: string, log: Logger): Promise<void> {
  const owner = await readFile(`${lockPath}.owner`, 'utf8').catch(() => '');
  const [pidText, host] = owner.trim().split(' ');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return;
  try {
    process.kill(pid, 0);
    return; // alive
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') return;
  }
  log.warn({ pid }, 'breaking the store lock of a process that is gone');
  await rm(lockPath, { recursive: true, force: true });
  await rm(`${lockPath}.owner`, { force: true });
}
