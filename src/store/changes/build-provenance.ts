// The provenance of a good build (domain/provenance-statement.ts), made by the status update that commits
// its binaries (update-status.ts), inside that transaction: the submission's facts and the
// dependencies' digests come from the store as that commit will have them, the subjects' digests
// are those of the files it writes, and the run's facts (builder, times, VM images, the key) from
// whoever reported the build. Written as binaries/<arch>/provenance.dsse.json beside them.
import type { Arch } from '../../domain/arch.js';
import { buildStatement, provenanceEnvelope, type ProvenanceDependency, type ProvenanceRun } from '../../domain/provenance-statement.js';
import type { ArchBuildStatus, SubmissionInfo, SubmissionStatus } from '../../domain/submission.js';
import { fileDigest } from '../layout/indexed-builds.js';
import { readPortIndex } from '../layout/port-index.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';

export interface ProvenanceInput {
  pkgid: number;
  arch: Arch;
  info: SubmissionInfo;
  /** status.json as this commit writes it */
  status: SubmissionStatus;
  /** this arch's build status before the change (its claim time is when the build started) */
  before: ArchBuildStatus | undefined;
  binaries_sha256: string;
  manifest_sha256: string;
  run: ProvenanceRun;
}

/** The pkgids installed into the VM for this arch's build, as status.json records them. */
export function resolvedOf(status: SubmissionStatus, arch: Arch): number[] {
  const b = status.builds?.[arch];
  if (b) return b.resolved_dependencies ?? b.build?.resolved_dependencies ?? [];
  return status.build?.arch === arch ? status.build.resolved_dependencies ?? [] : [];
}

/** A dependency's name, version and the digests of its binaries for `arch` (its index entry's, else hashed). */
async function dependency(store: Store, pkgid: number, arch: Arch): Promise<ProvenanceDependency> {
  const info = await store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
  const built = info ? (await readPortIndex(store, info.name))?.submissions.find((s) => s.pkgid === pkgid)?.builds?.[arch] : undefined;
  let binaries = built?.binaries.sha256 ?? null;
  let manifest = built?.manifest_sha256 ?? null;
  if (!built) {
    const dir = storePaths.binaries(pkgid, arch);
    binaries = (await fileDigest(store.abs(`${dir}/files.tar.gz`)))?.sha256 ?? null;
    manifest = (await fileDigest(store.abs(`${dir}/manifest.json`)))?.sha256 ?? null;
  }
  return { pkgid, name: info?.name ?? `pkgid-${pkgid}`, version: info?.version ?? '', binaries_sha256: binaries, manifest_sha256: manifest };
}

/** The provenance file's bytes: the statement in a DSSE envelope, signed with run.key (unsigned without one). */
export async function provenanceFile(store: Store, p: ProvenanceInput): Promise<Buffer> {
  const { info, status, arch, run } = p;
  const resolved: ProvenanceDependency[] = [];
  for (const id of resolvedOf(status, arch)) resolved.push(await dependency(store, id, arch));
  const attempt = status.builds?.[arch]?.attempts ?? status.attempts;
  const statement = buildStatement({
    origin: run.origin, pkgid: p.pkgid, name: info.name, version: info.version, arch, source: info.source,
    portpkg_sha256: info.sha256, dependencies: info.dependencies ?? {}, build_dependencies: info.build_dependencies ?? {},
    binaries_sha256: p.binaries_sha256, manifest_sha256: p.manifest_sha256, resolved, vm: run.vm ?? null,
    builder_id: run.builder_id, invocation_id: `pkg/${p.pkgid}/${arch}/attempt/${attempt}`,
    started_on: run.started_on ?? (p.before?.state === 'building' ? p.before.updated_at : null),
    finished_on: run.finished_on ?? status.updated_at,
  });
  return Buffer.from(provenanceEnvelope(statement, run.key));
}
