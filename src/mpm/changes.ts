// The pure planner of one transaction: from the database, the packages coming in (their manifest
// files) and going out, and a read-only view of ROOT, the conflicts (checked before anything is
// written) or the journal's operations: deletions, new folders, placements, database records.
import path from 'node:path';
import type { Db, FileEntry, PackageRecord } from './db.js';
import type { Disk } from './fs/root-path.js';
import type { Op } from './journal.js';
import { recordPath, type Layout } from './layout.js';
import { ancestors, depth, isConfigPath, isSharedLibrary } from './paths.js';

export interface ChangeInput {
  db: Db;
  /** packages installed or replaced, dependencies first; files as their manifests list them */
  put: PackageRecord[];
  /** names among `put` whose record only changes (explicit, spec): no files move */
  recordOnly?: Set<string>;
  /** names removed entirely */
  remove: string[];
  overwrite: boolean;
  layout: Layout;
  /** in-root staging folder of this transaction */
  staging: string;
}

export type ConflictKind = 'owned' | 'both-new' | 'unowned' | 'type' | 'not-a-dir' | 'mpm';
export interface Conflict {
  kind: ConflictKind;
  path: string;
  package: string;
  other: string | null;
  message: string;
}

export interface ChangePlan {
  conflicts: Conflict[];
  ops: Op[];
  /** database records to write (new, replaced, or changed ownership of a folder) */
  records: PackageRecord[];
  /** records deleted */
  dropped: string[];
  /** folders to remove after the commit, when empty */
  rmdirs: string[];
  /** config files the user changed, left in place */
  keptConfig: string[];
  /** new versions of kept config files, written beside them */
  mpmnew: string[];
  ldconfig: boolean;
}

/** Where the extractor stages file `index` of the `k`-th package of `put`. */
export const stagedName = (staging: string, k: number, index: number) => `${staging}/p${k}/${index}`;

interface Incoming { pkg: string; k: number; index: number; entry: FileEntry; physical: string }

export function planChanges(input: ChangeInput, disk: Disk): ChangePlan {
  const { db, layout, staging } = input;
  const recordOnly = input.recordOnly ?? new Set<string>();
  const incoming = input.put.filter((r) => !recordOnly.has(r.name));
  const removed = new Set(input.remove);
  const replaced = new Set(incoming.map((r) => r.name));
  const going = [...db.values()].filter((r) => removed.has(r.name) || replaced.has(r.name));
  const goingNames = new Set(going.map((r) => r.name));
  const staying = [...db.values()].filter((r) => !goingNames.has(r.name));
  const conflicts: Conflict[] = [];
  const conflict = (kind: ConflictKind, p: string, pkg: string, other: string | null, message: string) => conflicts.push({ kind, path: p, package: pkg, other, message });

  // who owns what once this transaction is done, but for the incoming packages
  const stayingOwner = new Map<string, string>();
  const stayingDirs = new Map<string, string>();
  for (const r of staying) for (const f of r.files) (f.type === 'dir' ? stayingDirs : stayingOwner).set(f.path, r.name);
  const goingFiles = new Map<string, FileEntry>();
  for (const r of going) for (const f of r.files) if (f.type !== 'dir') goingFiles.set(f.path, f);
  const oldOf = (pkg: string, p: string) => db.get(pkg)?.files.find((f) => f.path === p);

  // the incoming files, each at its physical place
  const newFiles = new Map<string, Incoming>();
  const newDirs = new Map<string, Incoming>();
  const newLinks = new Set<string>();
  input.put.forEach((r, k) => recordOnly.has(r.name) || r.files.forEach((entry, index) => {
    const physical = disk.resolve(entry.path);
    const item = { pkg: r.name, k, index, entry, physical };
    if (physical === layout.dir || physical.startsWith(`${layout.dir}/`)) return conflict('mpm', entry.path, r.name, null, `${entry.path} of ${r.name} is inside mpm's own ${layout.dir}`);
    if (entry.type === 'dir') {
      if (!newDirs.has(physical)) newDirs.set(physical, item);
      return;
    }
    const twin = newFiles.get(physical);
    if (twin) return conflict('both-new', entry.path, r.name, twin.pkg, `${entry.path} is in both ${twin.pkg} and ${r.name}`);
    newFiles.set(physical, item);
    if (entry.type === 'symlink') newLinks.add(physical);
  }));

  // files of the going packages that leave (or turn into a folder)
  const deleted = new Set<string>();
  const keptConfig: string[] = [];
  const dels: Op[] = [];
  let b = 0;
  for (const [p, f] of goingFiles) {
    if (stayingOwner.has(p)) continue;
    const physical = disk.resolve(p);
    const next = newFiles.get(physical);
    if (next) continue; // replaced in place
    const st = disk.lstat(physical);
    if (!st || st.type === 'dir') continue;
    if (!newDirs.has(physical) && f.type === 'file' && isConfigPath(p) && st.type === 'file' && disk.sha256(physical) !== f.sha256) {
      keptConfig.push(p);
      continue;
    }
    deleted.add(physical);
    dels.push({ op: 'del', path: physical, backup: `${staging}/b/${b++}` });
  }

  // folders to make: the new ones and those on the way to every incoming path
  const mkdirs = new Map<string, { mode: number; pkg: string }>();
  const needDir = (d: string, pkg: string, forPath: string, mode: number): void => {
    if (mkdirs.has(d)) return;
    const st = disk.lstat(d);
    if (!st || deleted.has(d)) {
      mkdirs.set(d, { mode, pkg });
      return;
    }
    if (st.type === 'dir') return;
    if (st.type === 'symlink' && d === forPath && disk.lstat(path.posix.dirname(disk.resolve(`${d}/_`)))?.type === 'dir') return; // a link to a folder (merged /usr)
    conflict('not-a-dir', d, pkg, stayingOwner.get(d) ?? null, `${d} is not a folder in ROOT${d === forPath ? '' : ` (${forPath} of ${pkg} goes in it)`}`);
  };
  for (const [physical, it] of [...newDirs].sort((x, y) => depth(x[0]) - depth(y[0]))) {
    for (const a of ancestors(physical)) needDir(a, it.pkg, physical, newDirs.get(a)?.entry.mode ?? 0o755);
    needDir(physical, it.pkg, physical, it.entry.mode);
  }

  // conflicts of the incoming files, and their placements
  const placeSet = new Set<string>();
  const puts: Op[] = [];
  const mpmnew: string[] = [];
  for (const [physical, it] of newFiles) {
    const { entry: f, pkg } = it;
    const owner = stayingOwner.get(f.path) ?? stayingOwner.get(physical);
    if (owner) {
      conflict('owned', f.path, pkg, owner, `${f.path} of ${pkg} is already owned by ${owner}`);
      continue;
    }
    const dirOwner = stayingDirs.get(f.path) ?? stayingDirs.get(physical) ?? newDirs.get(physical)?.pkg;
    if (dirOwner) {
      conflict('type', f.path, pkg, dirOwner, `${f.path} is a ${f.type} in ${pkg} but a folder of ${dirOwner}`);
      continue;
    }
    const linkAbove = ancestors(physical).find((a) => newLinks.has(a));
    if (linkAbove) {
      conflict('type', f.path, pkg, newFiles.get(linkAbove)!.pkg, `${f.path} of ${pkg} is under ${linkAbove}, a symbolic link of ${newFiles.get(linkAbove)!.pkg}`);
      continue;
    }
    for (const a of ancestors(physical)) needDir(a, pkg, f.path, newDirs.get(a)?.entry.mode ?? 0o755);
    const st = disk.lstat(physical);
    const ours = goingFiles.has(f.path) || goingFiles.has(physical);
    if (st?.type === 'dir') {
      conflict('type', f.path, pkg, null, `${f.path} is a folder in ROOT, a ${f.type} in ${pkg}`);
      continue;
    }
    if (st && !ours && !input.overwrite) {
      conflict('unowned', f.path, pkg, null, `${f.path} (of ${pkg}) exists in ROOT and belongs to no package; --overwrite replaces it`);
      continue;
    }
    let target = physical;
    const old = oldOf(pkg, f.path);
    if (st && ours && old?.type === 'file' && f.type === 'file' && isConfigPath(f.path) && st.type === 'file') {
      const now = disk.sha256(physical);
      if (now !== old.sha256) { // the user changed it: keep theirs
        keptConfig.push(f.path);
        if (f.sha256 === old.sha256 || f.sha256 === now) continue;
        target = `${physical}.mpmnew`;
        mpmnew.push(`${f.path}.mpmnew`);
      }
    }
    placeSet.add(target);
    const there = target === physical ? st : disk.lstat(target);
    puts.push({ op: 'put', path: target, staged: stagedName(staging, it.k, it.index), backup: there ? `${staging}/b/${b++}` : null });
  }

  // records: the incoming ones (with the folders this transaction makes), and who made which folder
  const createdBefore = new Set<string>();
  for (const r of db.values()) for (const f of r.files) if (f.type === 'dir' && f.created) createdBefore.add(f.path);
  const records = new Map<string, PackageRecord>();
  for (const r of input.put) {
    if (recordOnly.has(r.name)) {
      records.set(r.name, r);
      continue;
    }
    const old = db.get(r.name);
    const files = r.files.map((f) => {
      if (f.type !== 'dir') return f;
      const physical = disk.resolve(f.path);
      const created = mkdirs.has(physical) || !!old?.files.some((o) => o.type === 'dir' && o.path === f.path && o.created);
      return { ...f, created };
    });
    records.set(r.name, { ...r, files });
  }
  // every folder on the way is listed too (shared), so the last package in it removes the one mpm made
  for (const r of records.values()) {
    if (recordOnly.has(r.name)) continue;
    const listed = new Set(r.files.filter((f) => f.type === 'dir').map((f) => disk.resolve(f.path)));
    for (const f of [...r.files]) {
      for (const a of ancestors(disk.resolve(f.path))) {
        if (listed.has(a)) continue;
        listed.add(a);
        r.files.push({ path: a, type: 'dir', mode: mkdirs.get(a)?.mode ?? disk.lstat(a)?.mode ?? 0o755, created: mkdirs.has(a) });
      }
    }
  }
  const finals = [...staying.filter((r) => !records.has(r.name)), ...records.values()];
  const listedBy = new Map<string, PackageRecord[]>();
  for (const r of finals) for (const f of r.files) if (f.type === 'dir') listedBy.set(f.path, [...(listedBy.get(f.path) ?? []), r]);
  for (const d of createdBefore) {
    const holders = listedBy.get(d);
    if (!holders || holders.some((r) => r.files.some((f) => f.path === d && f.created))) continue;
    const h = records.get(holders[0].name) ?? holders[0]; // the folder outlives its maker: the next package listing it owns its removal
    records.set(h.name, { ...h, files: h.files.map((f) => (f.path === d && f.type === 'dir' ? { ...f, created: true } : f)) });
  }
  const rmdirs = new Set<string>();
  for (const r of going) for (const f of r.files) if (f.type === 'dir' && f.created && !listedBy.has(f.path)) rmdirs.add(disk.resolve(f.path));

  // the database: records written through staging like any file, deletions kept as backups until the commit
  const dbOps: Op[] = [];
  for (const r of records.values()) dbOps.push({ op: 'put', path: recordPath(layout, r.name), staged: `${staging}/db/${r.name}.json`, backup: db.has(r.name) ? `${staging}/b/db-${r.name}` : null });
  const dropped = input.remove.filter((n) => db.has(n) && !records.has(n));
  for (const n of dropped) dbOps.push({ op: 'del', path: recordPath(layout, n), backup: `${staging}/b/db-${n}` });

  const mkdirOps: Op[] = [...mkdirs].sort((x, y) => depth(x[0]) - depth(y[0])).map(([p, m]) => ({ op: 'mkdir', path: p, mode: m.mode }));
  return {
    conflicts,
    ops: [...dels, ...mkdirOps, ...puts, ...dbOps],
    records: [...records.values()],
    dropped,
    rmdirs: [...rmdirs].sort((x, y) => depth(y) - depth(x) || (x < y ? 1 : -1)),
    keptConfig,
    mpmnew,
    ldconfig: [...placeSet, ...deleted].some(isSharedLibrary) || [...newFiles.values()].some((i) => isSharedLibrary(i.entry.path)),
  };
}

export const conflictSummary = (c: Conflict[]) => `${c[0].message}${c.length > 1 ? ` (and ${c.length - 1} more conflict${c.length > 2 ? 's' : ''})` : ''}`;
