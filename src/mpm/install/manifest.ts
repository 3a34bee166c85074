// A package's manifest (GET …/binaries/<arch>/manifest): fetched, its sha256 checked against the
// plan, its shape checked (zod) and every path made safe: absolute and normal, no "..", nothing in
// mpm's own folder, nothing under a link or a file of the package, links that stay inside ROOT.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { decodeUtf8, hasControlChars, parseUntrustedJson } from '../../domain/untrusted-text.js';
import type { MpmClient } from '../client.js';
import type { FileEntry } from '../db.js';
import { MPM_DIR } from '../layout.js';
import { ancestors } from '../paths.js';
import { readLimited, type PlanPackage } from './plan.js';

const manifestSchema = z.object({
  pkgid: z.number().int().positive(),
  name: z.string(),
  version: z.string(),
  arch: z.string(),
  files: z.array(z.object({
    path: z.string().min(1).max(4096),
    type: z.enum(['file', 'symlink', 'dir', 'hardlink']),
    mode: z.number().int().min(0).max(0o177777),
    size: z.number().int().nonnegative().optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    target: z.string().min(1).max(4096).optional(),
  })).max(1_000_000),
});
export type ManifestFile = z.infer<typeof manifestSchema>['files'][number];

const S_IFMT = 0o170000;
const IFMT: Record<FileEntry['type'], number> = { file: 0o100000, hardlink: 0o100000, dir: 0o040000, symlink: 0o120000 };
export const MAX_MANIFEST_BYTES = 64 << 20;

const unsafe = (pkg: string, why: string) => new MorphuxError('unsafe_archive', `the manifest of ${pkg} is unsafe: ${why}`, { package: pkg });

/** A clean absolute path: "/", no empty, "." or ".." parts, no trailing "/", no control characters. */
export const isCleanPath = (p: string) => p.startsWith('/') && p !== '/' && !hasControlChars(p, false) && p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..');

/** Whether link `target` of link `at` stays inside ROOT when read as a relative path (an absolute one always does: it is read inside ROOT). */
export function linkStaysInside(at: string, target: string): boolean {
  if (target.startsWith('/')) return true;
  let level = path.posix.dirname(at).split('/').filter(Boolean).length;
  for (const part of target.split('/')) {
    if (part === '..') level--;
    else if (part !== '' && part !== '.') level++;
    if (level < 0) return false;
  }
  return true;
}

/** The manifest's files as database entries, or unsafe_archive / bad_request saying why not. */
export function checkManifest(json: unknown, p: Pick<PlanPackage, 'name' | 'version' | 'pkgid' | 'arch'>): FileEntry[] {
  const r = manifestSchema.safeParse(json);
  if (!r.success) throw new MorphuxError('bad_request', `the manifest of ${p.name} is invalid: ${r.error.issues[0].path.join('.') || '(root)'}: ${r.error.issues[0].message}`);
  const m = r.data;
  if (m.pkgid !== p.pkgid || m.name !== p.name || m.version !== p.version || m.arch !== p.arch) {
    throw new MorphuxError('bad_request', `the manifest of ${p.name} ${p.version} (pkgid ${p.pkgid}, ${p.arch}) names ${m.name} ${m.version} (pkgid ${m.pkgid}, ${m.arch})`);
  }
  const byPath = new Map<string, ManifestFile>();
  for (const f of m.files) {
    if (f.path === '/' && f.type === 'dir') continue;
    if (!isCleanPath(f.path)) throw unsafe(p.name, `bad path ${JSON.stringify(f.path.slice(0, 200))}`);
    if (byPath.has(f.path)) throw unsafe(p.name, `${f.path} is listed twice`);
    if (f.path === MPM_DIR || f.path.startsWith(`${MPM_DIR}/`) || MPM_DIR.startsWith(`${f.path}/`) && f.type !== 'dir') throw unsafe(p.name, `${f.path} is mpm's own`);
    const fmt = f.mode & S_IFMT;
    if (fmt !== 0 && fmt !== IFMT[f.type]) throw unsafe(p.name, `${f.path}: mode ${f.mode.toString(8)} is not a ${f.type}'s`);
    if (f.type === 'file' && (f.size === undefined || f.sha256 === undefined)) throw unsafe(p.name, `${f.path}: a file needs size and sha256`);
    if ((f.type === 'symlink' || f.type === 'hardlink') && (!f.target || hasControlChars(f.target, false))) throw unsafe(p.name, `${f.path}: a ${f.type} needs a target`);
    if (f.type === 'symlink' && !linkStaysInside(f.path, f.target!)) throw unsafe(p.name, `${f.path} links out of ROOT (${f.target})`);
    byPath.set(f.path, f);
  }
  const out: FileEntry[] = [];
  for (const f of byPath.values()) {
    const above = ancestors(f.path).find((a) => byPath.has(a) && byPath.get(a)!.type !== 'dir');
    if (above) throw unsafe(p.name, `${f.path} is under ${above}, a ${byPath.get(above)!.type}`);
    const e: FileEntry = { path: f.path, type: f.type, mode: f.mode & 0o7777 };
    if (f.type === 'file') Object.assign(e, { size: f.size, sha256: f.sha256 });
    if (f.type === 'symlink') e.target = f.target;
    if (f.type === 'hardlink') {
      const t = f.target!.startsWith('/') ? f.target! : `/${f.target}`;
      const target = byPath.get(path.posix.normalize(t));
      if (!target || target.type !== 'file') throw unsafe(p.name, `${f.path} is a hard link to ${f.target}, not a file of the package`);
      Object.assign(e, { target: target.path, size: target.size, sha256: target.sha256 });
    }
    out.push(e);
  }
  return out;
}

export async function fetchManifest(client: MpmClient, p: PlanPackage): Promise<FileEntry[]> {
  const bytes = await readLimited(await client.request('GET', p.manifest.url), MAX_MANIFEST_BYTES, `the manifest of ${p.name}`);
  return manifestOf(bytes, p);
}

/** A manifest's bytes (from the server or a mirror): their sha256 the plan's, then checkManifest. */
export function manifestOf(bytes: Buffer, p: Pick<PlanPackage, 'name' | 'version' | 'pkgid' | 'arch' | 'manifest'>): FileEntry[] {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== p.manifest.sha256) throw new MorphuxError('digest_mismatch', `the manifest of ${p.name} ${p.version} has sha256 ${sha256}, the plan says ${p.manifest.sha256}`, { package: p.name });
  const json = parseUntrustedJson(decodeUtf8(bytes, 'bad_request', `the manifest of ${p.name}`), 'bad_request', `the manifest of ${p.name}`);
  return checkManifest(json, p);
}
