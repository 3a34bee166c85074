// What a signed mirror index resolves to, offline (pure, no I/O): pickEntry, the rule `mpm get
// --mirror` and `mpm install --mirror` name an artifact by; and mirrorPlan, the install plan of
// `mpm install|upgrade --mirror`, the same shape as the server's (install/plan.ts,
// docs/install-plan.md) so the rest of the install is shared. Its runtime closure resolves with the
// one rule builds and the server use (domain/resolve-dependencies.ts, resolveClosure) over the
// index's eligible entries for the arch, from what each entry carries (dependencies as declared,
// installed_size, manifest_sha256, and the sealed manifest: manifest_path, manifest_sealed_size,
// manifest_sealed_sha256); packages installed at the chosen pkgid are left out as unchanged, as the
// server's ?installed= does.
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName } from '../domain/names.js';
import { resolveClosure, type Candidate } from '../domain/resolve-dependencies.js';
import type { IndexEntry, IndexPayload } from '../domain/signed-index.js';
import { checkVersion, compareVersions, isVersion } from '../domain/version.js';
import type { Db } from './db.js';
import type { Plan, PlanPackage } from './install/plan.js';
import type { Spec } from './install/spec.js';

/** The entry a spec names: NAME (best eligible), NAME@VERSION (best eligible of it), or a pkgid (any). */
export function pickEntry(entries: IndexEntry[], spec: string, arch: string): IndexEntry {
  const forArch = entries.filter((e) => e.arch === arch);
  let hits: IndexEntry[];
  if (/^[0-9]+$/.test(spec)) hits = forArch.filter((e) => e.pkgid === Number(spec));
  else {
    const at = spec.indexOf('@');
    const name = at < 0 ? spec : spec.slice(0, at);
    const version = at < 0 ? null : spec.slice(at + 1);
    hits = forArch.filter((e) => e.name === name && e.eligible && (version === null || e.version === version));
  }
  hits.sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
  if (!hits[0]) throw new MorphuxError('not_found', `no artifact for ${spec} (${arch}) in the mirror's index`, { spec, arch });
  return hits[0];
}

/** Refuses an index entry whose name, version or arch could not be one part of a file name. */
export function checkEntryNames(id: { name: string; version: string; arch: string }): void {
  checkPackageName(id.name);
  checkVersion(id.version);
  if (!/^[A-Za-z0-9_]{1,32}$/.test(id.arch)) throw new MorphuxError('bad_request', `the mirror's index names a bad arch ${JSON.stringify(id.arch.slice(0, 40))}`);
}

/**
 * What `install --mirror` takes: NAME, NAME@VERSION or a PKGID. NAME@stable is refused (the index
 * does not say which submission is stable), and so is a PKGURL (a mirror knows no server).
 */
export function parseMirrorSpec(text: string): Spec {
  if (/^[0-9]{1,9}$/.test(text) && Number(text) > 0) return { query: String(Number(text)), name: null, pkgid: Number(text) }; // as install/spec.ts
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) || text.startsWith('//')) {
    throw new MorphuxError('bad_request', `with --mirror, name a package by NAME, NAME@VERSION or its pkgid, not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const at = text.indexOf('@');
  const name = checkPackageName(at < 0 ? text : text.slice(0, at));
  if (at >= 0) {
    const which = text.slice(at + 1);
    if (which === 'stable') throw new MorphuxError('bad_request', `${text}: a mirror's index does not say which submission is stable; name the version (NAME@VERSION) or the pkgid`);
    if (!isVersion(which)) throw new MorphuxError('invalid_version', `bad version in ${JSON.stringify(text.slice(0, 200))}: want NAME, NAME@VERSION or a pkgid`);
  }
  return { query: text, name, pkgid: null };
}

const NEEDED = ['dependencies', 'installed_size', 'manifest_sha256', 'manifest_path', 'manifest_sealed_size', 'manifest_sealed_sha256'] as const;

/** An index entry with everything an offline install needs. */
export type ResolvableEntry = IndexEntry & Required<Pick<IndexEntry, (typeof NEEDED)[number]>>;

/**
 * The entry, or `unavailable` when the mirror's index was signed before it carried what an install
 * needs (or named its manifest in clear, before manifests were sealed: no manifest_sealed_*).
 */
export function resolvable(e: IndexEntry): ResolvableEntry {
  const lacks = NEEDED.filter((k) => e[k] === undefined);
  if (lacks.length) {
    throw new MorphuxError('unavailable', `the mirror's index predates what \`mpm install --mirror\` needs: ${e.name} ${e.version} (pkgid ${e.pkgid}, ${e.arch}) has no ${lacks.join(', ')}; republish (\`morphux mirror push\`) so that the next index carries them`, { pkgid: e.pkgid, lacks });
  }
  return e as ResolvableEntry;
}

/** A mirror's URL for a file on it, without the credentials the mirror's URL may carry. */
export function mirrorFileUrl(mirror: string, rel: string): string {
  const u = new URL(mirror);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${rel.split('/').map(encodeURIComponent).join('/')}`;
  return u.toString();
}

export interface MirrorPlan {
  plan: Plan;
  /** the index entry of each package of the plan, by name */
  entries: Map<string, ResolvableEntry>;
}

/**
 * The install plan of `specs` on `arch` from a verified index: each spec picked by pickEntry, the
 * runtime closure resolved by resolveClosure over the eligible entries of that arch, dependencies
 * first; entries `installed` at the chosen pkgid go to `unchanged`. A package's `pkgurl` is its
 * artifact's URL on the mirror (the index names no server), its binaries the sealed artifact (the
 * size and sha256 the index signs), its manifest the sealed file `manifest_path` names (the plan's
 * manifest.sha256 is manifest_sha256, of the manifest in clear, as in the server's plan).
 */
export async function mirrorPlan(index: Pick<IndexPayload, 'artifacts'>, specs: readonly string[], arch: string, installed: Db, mirror: string): Promise<MirrorPlan> {
  if (specs.length === 0) throw new MorphuxError('bad_request', 'no package asked for');
  const forArch = index.artifacts.filter((e) => e.arch === arch);
  const byPkgid = new Map<number, IndexEntry>();
  for (const e of forArch) {
    if (byPkgid.has(e.pkgid)) throw new MorphuxError('bad_request', `the mirror's index names pkgid ${e.pkgid} (${arch}) twice`, { pkgid: e.pkgid });
    checkEntryNames(e);
    byPkgid.set(e.pkgid, e);
  }
  // an entry signed before `dependencies` existed resolves as having none, and fails below if chosen
  const candidate = (e: IndexEntry): Candidate => ({ pkgid: e.pkgid, name: e.name, version: e.version, dependencies: e.dependencies ?? {} });

  const roots = new Map<string, Candidate>();
  for (const spec of specs) {
    const e = pickEntry(forArch, spec, arch);
    const had = roots.get(e.name);
    if (had && had.pkgid !== e.pkgid) {
      throw new MorphuxError('dependency', `${e.name} is asked for twice: ${e.name} ${had.version} (pkgid ${had.pkgid}) and ${spec} (${e.name} ${e.version}, pkgid ${e.pkgid})`, { package: e.name });
    }
    roots.set(e.name, candidate(e));
  }
  // eligible entries only, as the server resolves names (what /port/<name> may resolve to)
  const lookup = async (name: string): Promise<Candidate[]> => forArch.filter((e) => e.name === name && e.eligible).map(candidate);
  const order = await resolveClosure([...roots.values()], lookup);
  const facts = new Map(order.map((c) => [c.name, resolvable(byPkgid.get(c.pkgid)!)])); // every one chosen carries what it needs

  const chosen = new Map(order.map((c) => [c.name, c]));
  const plan: Plan = { arch, requested: [...specs], packages: [] };
  if (installed.size) plan.unchanged = [];
  const entries = new Map<string, ResolvableEntry>();
  for (const c of order) {
    if (installed.get(c.name)?.pkgid === c.pkgid) {
      plan.unchanged!.push({ name: c.name, pkgid: c.pkgid });
      continue;
    }
    const e = facts.get(c.name)!;
    entries.set(c.name, e);
    const p: PlanPackage = {
      name: c.name, version: c.version, pkgid: c.pkgid, pkgurl: mirrorFileUrl(mirror, e.path), arch,
      explicit: roots.has(c.name),
      installed_size: e.installed_size, compile_seconds: null,
      dependencies: e.dependencies,
      resolved: Object.fromEntries(Object.keys(e.dependencies).map((d) => [d, chosen.get(d)!.pkgid])),
      binaries: { url: mirrorFileUrl(mirror, e.path), size: e.size, sha256: e.sha256 },
      // the sealed manifest on the mirror; the sha256 is of the manifest in clear, as the server's plan
      manifest: { url: mirrorFileUrl(mirror, e.manifest_path), sha256: e.manifest_sha256 },
    };
    plan.packages.push(p);
  }
  return { plan, entries };
}
