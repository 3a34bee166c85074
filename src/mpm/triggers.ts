// The system's triggers after a transaction, as pacman's and apk's hooks: ldconfig when shared
// libraries came or went in a library folder. Run only when ldconfig exists and ROOT has /etc;
// never fails the transaction (a failure is reported). Also the system caches it writes.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** Files the triggers (re)write: no package owns them (the server's manifests leave them out too). */
export const SYSTEM_CACHES = ['/etc/ld.so.cache', '/var/cache/ldconfig/aux-cache'];

function findLdconfig(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/sbin', '/usr/sbin'];
  for (const d of dirs) {
    const f = path.join(d, 'ldconfig');
    try {
      accessSync(f, constants.X_OK);
      if (statSync(f).isFile()) return f;
    } catch { /* not here */ }
  }
  return null;
}

/** Runs the triggers; each line says what was done or skipped and why. */
export async function runTriggers(root: string, triggers: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  if (!triggers.includes('ldconfig')) return out;
  const ldconfig = findLdconfig();
  let hasEtc = false;
  try {
    hasEtc = statSync(path.join(root, 'etc')).isDirectory();
  } catch { /* none */ }
  if (!ldconfig) out.push('ldconfig: not found, skipped');
  else if (!hasEtc) out.push(`ldconfig: ${root} has no /etc, skipped`);
  else {
    try {
      await promisify(execFile)(ldconfig, ['-r', root], { timeout: 120_000 });
      out.push(`ldconfig: ran ${ldconfig} -r ${root}`);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      out.push(`ldconfig: ${ldconfig} -r ${root} failed (${(err.stderr || err.message).trim().split('\n')[0]}); the transaction stands`);
    }
  }
  return out;
}
