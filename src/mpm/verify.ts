// `mpm verify`: each file of the installed packages against its database record: missing, type
// changed, content changed (size, sha256, link target), mode changed (like pacman -Qkk, apk audit).
// A config file (under /etc) the user changed is reported but is no fault: it is theirs to change.
import path from 'node:path';
import type { FileEntry, PackageRecord } from './db.js';
import type { Disk } from './fs/root-path.js';
import { isConfigPath } from './paths.js';

export type ProblemKind = 'missing' | 'type-changed' | 'changed' | 'mode-changed' | 'config-changed';
export interface Problem {
  name: string;
  path: string;
  problem: ProblemKind;
  detail: string;
}
export interface VerifyResult {
  packages: number;
  files: number;
  problems: Problem[];
  /** problems that make verify fail (all but config-changed) */
  faults: number;
}

const expectedType = (f: FileEntry) => (f.type === 'hardlink' ? 'file' : f.type);

function check(f: FileEntry, disk: Disk): { problem: ProblemKind; detail: string } | null {
  let p = disk.resolve(f.path);
  let st = disk.lstat(p);
  if (f.type === 'dir' && st?.type === 'symlink') st = disk.lstat((p = path.posix.dirname(disk.resolve(`${f.path}/_`))));
  if (!st) return { problem: 'missing', detail: 'missing' };
  if (st.type !== expectedType(f)) return { problem: 'type-changed', detail: `a ${st.type}, not a ${expectedType(f)}` };
  if (f.type === 'symlink') {
    const t = disk.readlink(p);
    return t === f.target ? null : { problem: 'changed', detail: `points to ${t}, not ${f.target}` };
  }
  if (f.type === 'dir') return null;
  if (f.size !== undefined && st.size !== f.size) return { problem: isConfigPath(f.path) ? 'config-changed' : 'changed', detail: `${st.size} bytes, not ${f.size}` };
  if (f.sha256 !== undefined && disk.sha256(p) !== f.sha256) return { problem: isConfigPath(f.path) ? 'config-changed' : 'changed', detail: 'sha256 differs' };
  if (st.mode !== f.mode) return { problem: 'mode-changed', detail: `mode ${st.mode.toString(8)}, not ${f.mode.toString(8)}` };
  return null;
}

export function verifyRecords(records: PackageRecord[], disk: Disk): VerifyResult {
  const problems: Problem[] = [];
  let files = 0;
  for (const r of records) {
    for (const f of r.files) {
      files++;
      const c = check(f, disk);
      if (c) problems.push({ name: r.name, path: f.path, ...c });
    }
  }
  return { packages: records.length, files, problems, faults: problems.filter((p) => p.problem !== 'config-changed').length };
}
