// The local database: one small JSON file per installed package, ROOT/var/lib/mpm/installed/<name>.json
// (name, version, pkgid, pkgurl, arch, files with type, mode, size, sha256, what it depends on,
// explicit or a dependency). Records are only ever written by a transaction (transaction.ts).
import { readdir, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MorphuxError } from '../domain/errors.js';
import { isPackageName } from '../domain/names.js';
import { isVersion } from '../domain/version.js';
import { hostPath } from './fs/root-path.js';
import { recordPath, type Layout } from './layout.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const fileEntrySchema = z.object({
  path: z.string().min(1).max(4096),
  type: z.enum(['file', 'dir', 'symlink', 'hardlink']),
  /** permission bits */
  mode: z.number().int().min(0).max(0o7777),
  size: z.number().int().nonnegative().optional(),
  sha256: hex64.optional(),
  target: z.string().max(4096).optional(),
  /** dirs: created by mpm (removed again when empty and no package lists it), not there before */
  created: z.boolean().optional(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const recordSchema = z.object({
  format: z.literal(1),
  name: z.string().refine(isPackageName, 'not a package name'),
  version: z.string().refine(isVersion, 'not a version'),
  pkgid: z.number().int().positive(),
  pkgurl: z.string(),
  arch: z.string(),
  explicit: z.boolean(),
  /** what `upgrade` asks the server for: NAME, NAME@VERSION or NAME@stable */
  spec: z.string(),
  installed_at: z.string(),
  installed_size: z.number().nonnegative(),
  dependencies: z.record(z.string(), z.string()),
  resolved: z.record(z.string(), z.number().int()),
  files: z.array(fileEntrySchema),
});
export type PackageRecord = z.infer<typeof recordSchema>;
export type Db = Map<string, PackageRecord>;

export const recordJson = (r: PackageRecord) => JSON.stringify(r, null, 1) + '\n';

/** Every installed package, by name (an empty map when there is no database yet). */
export async function readDb(root: string, l: Layout): Promise<Db> {
  let names: string[];
  try {
    names = await readdir(hostPath(root, l.installed));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  const db: Db = new Map();
  for (const n of names.sort()) {
    if (!n.endsWith('.json') || !isPackageName(n.slice(0, -5))) continue;
    const file = hostPath(root, recordPath(l, n.slice(0, -5)));
    let r;
    try {
      r = recordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    } catch (e) {
      throw new MorphuxError('internal', `the local database is damaged: ${file}: ${(e as Error).message}`);
    }
    if (!r.success) throw new MorphuxError('internal', `the local database is damaged: ${file}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
    if (r.data.name !== n.slice(0, -5)) throw new MorphuxError('internal', `the local database is damaged: ${file} holds ${r.data.name}`);
    db.set(r.data.name, r.data);
  }
  return db;
}

/** What a plan was made against: changes when any package is added, removed or changed. */
export const dbFingerprint = (db: Db) => [...db.values()].map((r) => `${r.name}@${r.pkgid}:${r.explicit ? 1 : 0}`).sort().join(',');

/** The packages owning in-root path `p` (several only for a shared folder). */
export function ownersOf(db: Db, p: string): PackageRecord[] {
  return [...db.values()].filter((r) => r.files.some((f) => f.path === p));
}
