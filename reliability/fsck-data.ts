// `morphux store fsck --json` on a data dir, through the real command; its report whether it
// passes (exit 0) or not (exit 1).
import type { FsckReport } from '../src/store/layout/fsck-store.js';
import { morphux } from '../test/support/server-process.js';

export async function fsckData(data: string): Promise<FsckReport> {
  let out: string;
  try {
    out = await morphux(['store', 'fsck', '--json', '--data', data]);
  } catch (e) {
    out = String((e as { stdout?: unknown }).stdout ?? '');
    if (!out.trim().startsWith('{')) throw e;
  }
  return JSON.parse(out) as FsckReport;
}
