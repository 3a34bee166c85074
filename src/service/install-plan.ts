// The install plan (GET /api/v1/install, docs/install-plan.md): what a client installs for the
// packages it asks for, on one arch. Each spec (NAME, NAME@VERSION, NAME@stable, PKGID, PKGURL)
// resolves by the /port rule (eligible-candidates.ts, pickEntry: the same function the 301s use);
// then the runtime closure (`dependencies`, not `build_dependencies`) resolves as a build's does
// (domain/resolve-dependencies.ts, resolveClosure: highest eligible good version satisfying every
// range, cycles and unsatisfiable or conflicting ranges failing with code `dependency`), among the
// submissions with a good build for the arch. Answered from the catalog's indexes alone: each
// entry carries its dependencies and, per arch, its build's sizes and digests (store/indexed-builds.ts).
// An entry indexed before those fields existed is read from the committed tree instead
// (planSource's legacy reader, remembered) until `morphux store reindex` fills them in.
import { resolveClosure, type Candidate } from '../domain/resolve-dependencies.js';
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName } from '../domain/names.js';
import { checkVersion } from '../domain/version.js';
import type { CommittedTree } from '../store/tree/committed-tree.js';
import { archBuildGood, bytesDigest, indexedBuild, isArchName, type IndexedBuild } from '../store/layout/indexed-builds.js';
import type { PortIndexEntry } from '../store/layout/port-index.js';
import { storePaths } from '../store/layout/store-paths.js';
import { checkPkgid } from '../domain/names.js';
import type { SubmissionInfo, SubmissionStatus } from '../domain/submission.js';
import { eligibleOf, pickEntry, type IndexSource } from './eligible-candidates.js';

const MAX_SPECS = 256;
const MAX_INSTALLED = 20_000;

export interface PlanEntry {
  name: string;
  version: string;
  pkgid: number;
  pkgurl: string;
  arch: string;
  /** asked for (true) or pulled in as a dependency (false) */
  explicit: boolean;
  installed_size: number;
  compile_seconds: number;
  /** runtime ranges as declared */
  dependencies: Record<string, string>;
  /** name -> pkgid each range resolved to in this plan */
  resolved: Record<string, number>;
  binaries: { url: string; size: number; sha256: string };
  manifest: { url: string; sha256: string };
}

export interface InstallPlan {
  arch: string;
  requested: string[];
  /** install order: dependencies first */
  packages: PlanEntry[];
  /** only with ?installed=: the closure's entries installed at that pkgid already */
  unchanged?: Array<{ name: string; pkgid: number }>;
}

/** What a submission's entry says for one arch (or the committed tree, for an entry indexed before the fields). */
export interface EntryFacts {
  dependencies: Record<string, string>;
  /** null: no good build for the arch */
  build: IndexedBuild | null;
}

/** What a plan reads. */
export interface PlanSource {
  catalog: IndexSource;
  /** the package a pkgid belongs to; null when there is no such submission */
  nameOf(pkgid: number): Promise<string | null>;
  /** the facts of an entry indexed before `dependencies` and `builds` existed (absent: none) */
  legacy?(pkgid: number, arch: string): Promise<EntryFacts>;
}

export interface PlanQuery {
  /** the pkg= values, in order */
  pkg: string[];
  arch?: string;
  /** the installed= values (each a comma-separated NAME@PKGID list); undefined when not given */
  installed?: string[];
}

export interface PlanOptions {
  /** the server's base URL: pkgurls and the binaries' URLs are made from it */
  publicUrl: string;
  /** the arches this server builds; the first is the default */
  arches: readonly string[];
  /** other bases a PKGURL spec may name (the origin the request came to) */
  alsoBase?: string[];
}

type Spec = { name: string; which: string | null } | { pkgid: number };

const trimSlash = (u: string) => u.replace(/\/+$/, '');
const shown = (s: string) => JSON.stringify(s.slice(0, 120));

/** One spec of ?pkg=: NAME, NAME@VERSION, NAME@stable, PKGID, or PKGURL (BASE/pkg/N of this server). */
export function parseSpec(text: string, bases: readonly string[]): Spec {
  if (text.length === 0 || text.length > 300) throw new MorphuxError('bad_request', `not a package spec: ${shown(text)}`);
  if (/^[0-9]+$/.test(text)) return { pkgid: pkgidOf(text) };
  if (/^https?:\/\//i.test(text)) {
    for (const b of bases) {
      const m = text.startsWith(`${b}/pkg/`) ? /^([0-9]+)\/?$/.exec(text.slice(b.length + 5)) : null;
      if (m) return { pkgid: pkgidOf(m[1]!) };
    }
    throw new MorphuxError('bad_request', `${shown(text)} is not a pkgurl of this server (${bases[0]}/pkg/<pkgid>)`);
  }
  const at = text.indexOf('@');
  if (at < 0) return { name: checkPackageName(text), which: null };
  const name = checkPackageName(text.slice(0, at));
  const which = text.slice(at + 1);
  return { name, which: which === 'stable' ? 'stable' : checkVersion(which) };
}

function pkgidOf(text: string): number {
  try {
    return checkPkgid(text);
  } catch {
    throw new MorphuxError('bad_request', `not a pkgid: ${shown(text)}`);
  }
}

/** ?installed=NAME@PKGID,NAME@PKGID… (any number of installed= values): name -> pkgid. */
export function parseInstalled(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)) {
    if (out.size >= MAX_INSTALLED) throw new MorphuxError('bad_request', `installed= names more than ${MAX_INSTALLED} packages`);
    const at = item.lastIndexOf('@');
    if (at < 0) throw new MorphuxError('bad_request', `installed= wants NAME@PKGID items, got ${shown(item)}`);
    out.set(checkPackageName(item.slice(0, at)), pkgidOf(item.slice(at + 1)));
  }
  return out;
}

export async function installPlan(src: PlanSource, q: PlanQuery, o: PlanOptions): Promise<InstallPlan> {
  const arch = q.arch ?? o.arches[0]!;
  if (!isArchName(arch)) throw new MorphuxError('bad_request', `not an arch: ${shown(arch)}`);
  if (q.pkg.length === 0) throw new MorphuxError('bad_request', 'no package asked for: give pkg=NAME (NAME@VERSION, NAME@stable, a pkgid or a pkgurl)');
  if (q.pkg.length > MAX_SPECS) throw new MorphuxError('bad_request', `at most ${MAX_SPECS} pkg= specs in one plan`);
  const base = trimSlash(o.publicUrl);
  const bases = [base, ...(o.alsoBase ?? []).map(trimSlash).filter((b) => b !== base)];
  const specs = q.pkg.map((t) => parseSpec(t, bases));
  const installed = q.installed ? parseInstalled(q.installed) : null;
  if (!o.arches.includes(arch)) throw new MorphuxError('not_found', `no good build for ${arch}: this server builds ${o.arches.join(', ')}`, { arch });

  // each package's index, read once per plan; asked for ahead of the resolution where it is known
  // to need it (the requested names, the dependencies of a chosen candidate), so the reads of
  // indexes not in the catalog's cache overlap instead of following one another
  const indexes = new Map<string, ReturnType<IndexSource['get']>>();
  const indexOf = (name: string) => {
    let p = indexes.get(name);
    if (!p) {
      p = src.catalog.get(name);
      p.catch(() => undefined); // a read ahead that fails is reported when it is awaited
      indexes.set(name, p);
    }
    return p;
  };
  for (const spec of specs) if ('name' in spec) void indexOf(spec.name);

  // each entry's facts for this arch, read once per plan
  const known = new Map<number, EntryFacts>();
  const factsOf = async (e: PortIndexEntry): Promise<EntryFacts> => {
    let f = known.get(e.pkgid);
    if (!f) {
      if (e.dependencies) f = { dependencies: e.dependencies, build: e.builds?.[arch] ?? null };
      else f = src.legacy ? await src.legacy(e.pkgid, arch) : { dependencies: {}, build: null };
      known.set(e.pkgid, f);
    }
    return f;
  };
  const candidate = (name: string, e: PortIndexEntry, f: EntryFacts): Candidate => ({ pkgid: e.pkgid, name, version: e.version, dependencies: f.dependencies });
  const noBuild = (name: string, e: PortIndexEntry) =>
    new MorphuxError('not_found', `${name} ${e.version} (pkgid ${e.pkgid}) has no good build for ${arch}${e.state === 'good' ? '' : ` (its build is ${e.state})`}`, { package: name, pkgid: e.pkgid, arch });

  // the requested submissions, by the /port rule for names
  const roots = new Map<string, Candidate>();
  for (const [i, spec] of specs.entries()) {
    let name: string;
    let entry: PortIndexEntry;
    if ('pkgid' in spec) {
      const n = await src.nameOf(spec.pkgid);
      const e = n ? (await indexOf(n))?.submissions.find((s) => s.pkgid === spec.pkgid) : undefined;
      if (!n || !e) throw new MorphuxError('not_found', `no submission with pkgid ${spec.pkgid}`, { pkgid: spec.pkgid });
      name = n;
      entry = e;
    } else {
      name = spec.name;
      const ix = await indexOf(name);
      if (!ix) throw new MorphuxError('not_found', `no package ${name}`, { package: name });
      const picked = pickEntry(ix, name, spec.which);
      if ('none' in picked) throw new MorphuxError('not_found', picked.none, { package: name });
      entry = picked.entry;
    }
    const f = entry.state === 'good' ? await factsOf(entry) : null;
    if (!f?.build) throw noBuild(name, entry);
    const had = roots.get(name);
    if (had && had.pkgid !== entry.pkgid) {
      throw new MorphuxError('dependency', `${name} is asked for twice: ${name} ${had.version} (pkgid ${had.pkgid}) and ${q.pkg[i]} (${name} ${entry.version}, pkgid ${entry.pkgid})`, { package: name });
    }
    roots.set(name, candidate(name, entry, f));
    for (const d of Object.keys(f.dependencies)) void indexOf(d);
  }

  // the closure: eligible good submissions with a build for the arch, as a build resolves them
  const lookup = async (name: string): Promise<Candidate[]> => {
    const eligible = eligibleOf(await indexOf(name));
    const out: Candidate[] = [];
    for (const e of eligible) {
      const f = await factsOf(e);
      if (f.build) out.push(candidate(name, e, f));
    }
    if (eligible.length > 0 && out.length === 0) {
      throw new MorphuxError('not_found', `${name} has no good build for ${arch}`, { package: name, arch });
    }
    for (const d of Object.keys(out[0]?.dependencies ?? {})) void indexOf(d); // most likely the one chosen
    return out;
  };
  const order = await resolveClosure([...roots.values()], lookup);

  const chosen = new Map(order.map((c) => [c.name, c]));
  const plan: InstallPlan = { arch, requested: [...q.pkg], packages: [] };
  if (installed) plan.unchanged = [];
  for (const c of order) {
    if (installed?.get(c.name) === c.pkgid) {
      plan.unchanged!.push({ name: c.name, pkgid: c.pkgid });
      continue;
    }
    const b = known.get(c.pkgid)!.build!;
    const pkgurl = `${base}/pkg/${c.pkgid}`;
    plan.packages.push({
      name: c.name, version: c.version, pkgid: c.pkgid, pkgurl, arch,
      explicit: roots.has(c.name),
      installed_size: b.installed_size, compile_seconds: b.compile_seconds,
      dependencies: c.dependencies,
      resolved: Object.fromEntries(Object.keys(c.dependencies).map((d) => [d, chosen.get(d)!.pkgid])),
      binaries: { url: `${pkgurl}/binaries/${arch}`, size: b.binaries.size, sha256: b.binaries.sha256 },
      manifest: { url: `${pkgurl}/binaries/${arch}/manifest`, sha256: b.manifest_sha256 },
    });
  }
  return plan;
}

const LEGACY_REMEMBERED = 4096;

/**
 * A plan's source on a running instance: the catalog, and the committed tree for a pkgid's name and
 * for entries indexed before `dependencies` and `builds` existed (their submission_info.json,
 * status.json and binaries, hashed once and remembered while final: a good or failed build
 * never changes).
 */
export function planSource(ctx: { catalog: IndexSource; committed: CommittedTree }): PlanSource {
  const remembered = new Map<string, EntryFacts>();
  return {
    catalog: ctx.catalog,
    nameOf: async (pkgid) => (await ctx.committed.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid)))?.name ?? null,
    legacy: async (pkgid, arch) => {
      const key = `${pkgid}/${arch}`;
      const had = remembered.get(key);
      if (had) return had;
      const [info, status] = await Promise.all([
        ctx.committed.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid)),
        ctx.committed.readJson<SubmissionStatus>(storePaths.status(pkgid)),
      ]);
      const facts: EntryFacts = { dependencies: info?.dependencies ?? {}, build: null };
      if (status && archBuildGood(status, arch)) {
        const dir = storePaths.binaries(pkgid, arch as Parameters<typeof storePaths.binaries>[1]);
        const files = new Map((await ctx.committed.entries(dir)).map((e) => [e.name, e.oid]));
        const [archive, manifest] = await Promise.all(['files.tar.gz', 'manifest.json'].map((f) => (files.has(f) ? ctx.committed.objects.read(files.get(f)!) : null)));
        if (archive?.type === 'blob' && manifest?.type === 'blob') {
          facts.build = indexedBuild(status, arch, { binaries: bytesDigest(archive.data), manifest_sha256: bytesDigest(manifest.data).sha256 });
        }
      }
      if (status?.state === 'good' || status?.state === 'failed') {
        if (remembered.size >= LEGACY_REMEMBERED) remembered.delete(remembered.keys().next().value!);
        remembered.set(key, facts);
      }
      return facts;
    },
  };
}
