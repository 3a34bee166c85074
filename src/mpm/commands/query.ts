// The read-only commands: `list`, `files NAME`, `owner PATH`, `verify [NAME…]` (non-zero exit
// when a file is missing, changed or has another mode). Each first finishes or rolls back a
// transaction a crash left.
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import { ownersOf, readDb, type Db } from '../db.js';
import { RootDisk } from '../fs/root-path.js';
import { openRoot, type RootSession } from '../session.js';
import { verifyRecords } from '../verify.js';
import type { CommandContext } from './context.js';

async function open(ctx: CommandContext): Promise<{ s: RootSession; db: Db }> {
  const s = await openRoot(ctx.root, { write: false });
  return { s, db: await readDb(s.root, s.layout) };
}

const notes = (s: RootSession) => (s.notes.length ? s.notes.map((n) => `${n}\n`).join('') : '');

export async function mpmList(ctx: CommandContext): Promise<void> {
  const { s, db } = await open(ctx);
  const items = [...db.values()].map((r) => ({ name: r.name, version: r.version, pkgid: r.pkgid, pkgurl: r.pkgurl, arch: r.arch, explicit: r.explicit, installed_size: r.installed_size, dependencies: r.dependencies, installed_at: r.installed_at }));
  const w = Math.max(0, ...items.map((i) => i.name.length));
  ctx.print({ root: s.root, notes: s.notes, items }, () => notes(s) + (items.map((i) => `${i.name.padEnd(w)}  ${i.version}  pkgid ${i.pkgid}  ${i.explicit ? 'explicit' : 'dependency'}`).join('\n') || 'no packages installed'));
}

export async function mpmFiles(ctx: CommandContext, name: string): Promise<void> {
  const { s, db } = await open(ctx);
  const r = db.get(name);
  if (!r) throw new MorphuxError('not_found', `${name} is not installed`, { name });
  const files = [...r.files].sort((a, b) => (a.path < b.path ? -1 : 1));
  ctx.print({ root: s.root, name, version: r.version, pkgid: r.pkgid, files }, () => notes(s) + files.map((f) => `${f.path}${f.type === 'dir' ? '/' : ''}${f.type === 'symlink' ? ` -> ${f.target}` : ''}`).join('\n'));
}

export async function mpmOwner(ctx: CommandContext, p: string): Promise<void> {
  const { s, db } = await open(ctx);
  if (!p.startsWith('/')) throw new MorphuxError('bad_request', `owner takes an absolute path inside the root, not ${JSON.stringify(p.slice(0, 200))}`);
  const clean = path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  let owners = ownersOf(db, clean);
  if (!owners.length) { // the same file by another name (a folder reached through a link)
    const disk = new RootDisk(s.root);
    const physical = disk.resolve(clean);
    owners = [...db.values()].filter((r) => r.files.some((f) => disk.resolve(f.path) === physical));
  }
  if (!owners.length) throw new MorphuxError('not_found', `no installed package owns ${clean}`, { path: clean });
  ctx.print({ root: s.root, path: clean, owners: owners.map((r) => ({ name: r.name, version: r.version, pkgid: r.pkgid })) },
    () => notes(s) + `${clean} is owned by ${owners.map((r) => `${r.name} ${r.version}`).join(', ')}`);
}

export async function mpmVerify(ctx: CommandContext, names: string[]): Promise<void> {
  const { s, db } = await open(ctx);
  for (const n of names) if (!db.has(n)) throw new MorphuxError('not_found', `${n} is not installed`, { name: n });
  const records = names.length ? names.map((n) => db.get(n)!) : [...db.values()];
  const v = verifyRecords(records, new RootDisk(s.root));
  ctx.print({ root: s.root, notes: s.notes, ...v, ok: v.faults === 0 }, () => notes(s) + [
    ...v.problems.map((p) => `${p.name}: ${p.problem} ${p.path}${p.problem === 'missing' ? '' : ` (${p.detail})`}`),
    `${v.packages} package${v.packages === 1 ? '' : 's'}, ${v.files} files checked: ${v.faults ? `${v.faults} problem${v.faults === 1 ? '' : 's'}` : 'no problems'}`,
  ].join('\n'));
  if (v.faults) process.exitCode = 1;
}
