// What a submission's index entry says of its good builds, per arch (PortIndexEntry.builds): the
// measurements of status.json and the size and sha256 of binaries/<arch>/files.tar.gz and of
// binaries/<arch>/manifest.json, so that an install plan is answered from the index alone
// (service/install-plan.ts). One derivation from the tree, used by the status update that records
// a build (update-status.ts, inside its transaction) and by reindex and fsck (derive-indexes.ts),
// so that both give the same entry.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ArchBuildStatus, BuildRecord, SubmissionStatus } from '../../domain/submission.js';

export interface Digest {
  size: number;
  /** hex */
  sha256: string;
}

/** One arch's good build, as the index keeps it (snake_case, like every entry field). */
export interface IndexedBuild {
  installed_size: number;
  compile_seconds: number;
  /** binaries/<arch>/files.tar.gz */
  binaries: Digest;
  /** sha256 of binaries/<arch>/manifest.json, the bytes as written (and as served) */
  manifest_sha256: string;
}

/** By arch, arches in sorted order. */
export type IndexedBuilds = Record<string, IndexedBuild>;

/** What a binaries folder's files give (the rest comes from status.json). */
export type BinariesDigests = Pick<IndexedBuild, 'binaries' | 'manifest_sha256'>;

const ARCH_NAME = /^[a-z0-9_]{1,32}$/;
/** An arch folder name (binaries/<arch>) or an arch a client asks for. */
export const isArchName = (a: unknown): a is string => typeof a === 'string' && ARCH_NAME.test(a);

export const bytesDigest = (data: Buffer | Uint8Array): Digest => ({ size: data.length, sha256: createHash('sha256').update(data).digest('hex') });

/** Size and sha256 of a file, read as a stream; null when it cannot be read. */
export function fileDigest(file: string): Promise<Digest | null> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let size = 0;
    createReadStream(file)
      .on('error', () => resolve(null))
      .on('data', (c) => { size += c.length; h.update(c); })
      .on('end', () => resolve({ size, sha256: h.digest('hex') }));
  });
}

const archStatus = (status: SubmissionStatus, arch: string): ArchBuildStatus | undefined =>
  (status.builds as Record<string, ArchBuildStatus | undefined> | undefined)?.[arch];

/** Is this arch's build good? status.json `builds.<arch>`, or, in a status written before per-arch
 *  builds, the submission's own state. */
export function archBuildGood(status: SubmissionStatus, arch: string): boolean {
  const b = archStatus(status, arch);
  return b ? b.state === 'good' : !status.builds && status.state === 'good';
}

/** The build record of one arch: `builds.<arch>.build`, else `build` when it is that arch's. */
function archRecord(status: SubmissionStatus, arch: string): BuildRecord | null {
  return archStatus(status, arch)?.build ?? (status.build && status.build.arch === arch ? status.build : null);
}

/** One arch's entry from its status and its files' digests (the one place its shape is made). */
export function indexedBuild(status: SubmissionStatus, arch: string, files: BinariesDigests): IndexedBuild {
  const m = archRecord(status, arch);
  return {
    installed_size: m?.installed_size ?? 0,
    compile_seconds: m?.compile_seconds ?? 0,
    binaries: { size: files.binaries.size, sha256: files.binaries.sha256 },
    manifest_sha256: files.manifest_sha256,
  };
}

/**
 * The entry's `builds` from the tree: each binaries/<arch>/ folder of the pkgid folder `pkgDir`
 * (absolute) whose build status says good and that holds files.tar.gz and manifest.json.
 * `fresh`: digests of files just written (an arch's, by the status update that writes them);
 * `known`: the entry's facts so far, whose digests are kept for the arches not fresh (the files of
 * a good build never change, and hashing every archive again at every status update would cost
 * what they weigh). Arches in sorted order, so every writer gives the same JSON; undefined when
 * there is none.
 */
export async function deriveBuilds(pkgDir: string, status: SubmissionStatus, o: { known?: IndexedBuilds; fresh?: ReadonlyMap<string, BinariesDigests> } = {}): Promise<IndexedBuilds | undefined> {
  let arches: string[];
  try {
    arches = (await readdir(path.join(pkgDir, 'binaries'))).filter(isArchName).sort();
  } catch {
    return undefined;
  }
  const out: IndexedBuilds = {};
  for (const arch of arches) {
    if (!archBuildGood(status, arch)) continue;
    let files = o.fresh?.get(arch) ?? o.known?.[arch] ?? null;
    if (!files) {
      const dir = path.join(pkgDir, 'binaries', arch);
      const [archive, manifest] = await Promise.all([fileDigest(path.join(dir, 'files.tar.gz')), fileDigest(path.join(dir, 'manifest.json'))]);
      if (archive && manifest) files = { binaries: archive, manifest_sha256: manifest.sha256 };
    }
    if (files) out[arch] = indexedBuild(status, arch, files);
  }
  return Object.keys(out).length ? out : undefined;
}
