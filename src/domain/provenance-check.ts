// What a client compares in a verified provenance statement (provenance-statement.ts): summarize()
// reads what it says of the build, checkProvenance() holds it against what an install plan
// installs: the one comparison of `mpm install --require-provenance`, from a server's plan or a
// mirror's (mpm/commands/provenance.ts). Pure: no I/O.
import { MorphuxError } from './errors.js';
import { SUBJECT_BINARIES, SUBJECT_MANIFEST, type ProvenanceStatement, type ResourceDescriptor, type VmImageDigests } from './provenance-statement.js';

/** What a statement says of the build, as a client compares it with an install plan. */
export interface ProvenanceSummary {
  name: string;
  version: string;
  pkgid: number;
  arch: string;
  binaries_sha256: string | null;
  manifest_sha256: string | null;
  /** the dependencies installed into the VM, by pkgid */
  dependencies: Array<{ pkgid: number; name: string; version: string | null; binaries_sha256: string | null }>;
  source: { uri: string; digest: Record<string, string> } | null;
  vm: Partial<VmImageDigests>;
  builder_id: string;
  started_on: string | null;
  finished_on: string | null;
}

const kindOf = (d: ResourceDescriptor): unknown => (d.annotations as Record<string, unknown> | undefined)?.kind;

export function summarize(s: ProvenanceStatement): ProvenanceSummary {
  const subject = (name: string) => s.subject.find((x) => x.name === name)?.digest.sha256 ?? null;
  const def = s.predicate.buildDefinition;
  const deps = def.resolvedDependencies ?? [];
  const vmDigest = (name: string) => deps.find((d) => kindOf(d) === 'vm' && d.name === name)?.digest?.sha256;
  const vm: Partial<VmImageDigests> = {};
  const [root, kernel, initrd] = [vmDigest('root.ext4'), vmDigest('vmlinux'), vmDigest('initrd.cpio.gz')];
  if (root) vm.root_image = root;
  if (kernel) vm.kernel = kernel;
  if (initrd) vm.initrd = initrd;
  const src = deps.find((d) => kindOf(d) === 'source' && d.digest?.gitCommit) ?? deps.find((d) => kindOf(d) === 'source');
  return {
    ...def.externalParameters.package,
    arch: def.externalParameters.arch,
    binaries_sha256: subject(SUBJECT_BINARIES),
    manifest_sha256: subject(SUBJECT_MANIFEST),
    dependencies: deps.filter((d) => kindOf(d) === 'dependency').flatMap((d) => {
      const a = d.annotations as Record<string, unknown>;
      return typeof a.pkgid === 'number' ? [{ pkgid: a.pkgid, name: d.name ?? '', version: typeof a.version === 'string' ? a.version : null, binaries_sha256: d.digest?.sha256 ?? null }] : [];
    }),
    source: src ? { uri: src.uri ?? '', digest: src.digest ?? {} } : null,
    vm,
    builder_id: s.predicate.runDetails.builder.id,
    started_on: s.predicate.runDetails.metadata?.startedOn ?? null,
    finished_on: s.predicate.runDetails.metadata?.finishedOn ?? null,
  };
}

/** What an install plan says of one package it installs. */
export interface ProvenanceExpectation {
  name: string;
  pkgid: number;
  arch: string;
  binaries_sha256: string;
  manifest_sha256: string;
  /** name → pkgid the plan resolves the package's runtime dependencies to */
  resolved: Record<string, number>;
}

/**
 * Compares a verified statement with what a plan installs: the same pkgid and arch, the subjects'
 * sha256 those of the binaries and manifest the plan fetches, and each dependency the plan
 * resolves for the package one the build had installed (the same pkgid: the binaries run with
 * what they were built against). Throws provenance_mismatch naming the first difference.
 */
export function checkProvenance(s: ProvenanceStatement, want: ProvenanceExpectation): ProvenanceSummary {
  const got = summarize(s);
  const who = `${want.name} (pkgid ${want.pkgid}, ${want.arch})`;
  const mismatch = (what: string, data: Record<string, unknown>) =>
    new MorphuxError('provenance_mismatch', `the provenance of ${who} does not match the install plan: ${what}`, { name: want.name, pkgid: want.pkgid, arch: want.arch, ...data });
  if (got.pkgid !== want.pkgid || got.arch !== want.arch) throw mismatch(`it is the provenance of pkgid ${got.pkgid} ${got.arch}`, { field: 'package' });
  if (got.binaries_sha256 !== want.binaries_sha256) throw mismatch(`its binaries are sha256 ${got.binaries_sha256}, the plan's ${want.binaries_sha256}`, { field: 'binaries' });
  if (got.manifest_sha256 !== want.manifest_sha256) throw mismatch(`its manifest is sha256 ${got.manifest_sha256}, the plan's ${want.manifest_sha256}`, { field: 'manifest' });
  const built = new Set(got.dependencies.map((d) => d.pkgid));
  for (const [name, pkgid] of Object.entries(want.resolved)) {
    if (!built.has(pkgid)) {
      const had = got.dependencies.filter((d) => d.name === name).map((d) => d.pkgid);
      throw mismatch(`the plan installs ${name} pkgid ${pkgid}, the build had ${had.length ? `pkgid ${had.join(', ')}` : `no ${name}`}`, { field: 'dependencies', dependency: name, plan_pkgid: pkgid, built_pkgids: had });
    }
  }
  return got;
}
