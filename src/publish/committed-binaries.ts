// What the store's last commit says is publishable: every good submission's binaries/<arch>/
// files.tar.gz, read from HEAD (never the working tree, where a transaction may be half done).
import { createHash } from 'node:crypto';
import { ARCHES, type Arch } from '../domain/arch.js';
import { runGit } from '../lib/git.js';
import { pkgidOfPath, storePaths } from '../store/layout/store-paths.js';
import { PROVENANCE_FILE } from '../domain/provenance-statement.js';
import type { SubmissionInfo, SubmissionStatus } from '../domain/submission.js';

export interface CommittedBinaries {
  pkgid: number;
  arch: Arch;
  /** store path of files.tar.gz */
  archive: string;
}

async function git(root: string, args: string[]): Promise<Buffer> {
  return (await runGit(['-C', root, ...args], { maxBuffer: 4 * 1024 ** 3 })).stdout;
}

/** Every (pkgid, arch) with a binaries archive at HEAD, pkgid order; empty for a store without commits. */
export async function listCommittedBinaries(storeRoot: string): Promise<CommittedBinaries[]> {
  let names: string;
  try {
    names = (await git(storeRoot, ['ls-tree', '-r', '--name-only', 'HEAD', '--', storePaths.portpkgsRoot])).toString('utf8');
  } catch {
    return [];
  }
  const out: CommittedBinaries[] = [];
  for (const line of names.split('\n')) {
    const m = /\/binaries\/([^/]+)\/files\.tar\.gz$/.exec(line);
    const pkgid = pkgidOfPath(line);
    if (!m || pkgid === null || !(ARCHES as readonly string[]).includes(m[1])) continue;
    if (line !== `${storePaths.binaries(pkgid, m[1] as Arch)}/files.tar.gz`) continue;
    out.push({ pkgid, arch: m[1] as Arch, archive: line });
  }
  return out.sort((a, b) => a.pkgid - b.pkgid || a.arch.localeCompare(b.arch));
}

export async function readCommitted(storeRoot: string, rel: string): Promise<Buffer> {
  return git(storeRoot, ['cat-file', 'blob', `HEAD:${rel}`]);
}

/** The submission and its status at HEAD, or null. */
export async function readCommittedSubmission(storeRoot: string, pkgid: number): Promise<{ info: SubmissionInfo; status: SubmissionStatus } | null> {
  try {
    const info = JSON.parse((await readCommitted(storeRoot, storePaths.submissionInfo(pkgid))).toString('utf8')) as SubmissionInfo;
    const status = JSON.parse((await readCommitted(storeRoot, storePaths.status(pkgid))).toString('utf8')) as SubmissionStatus;
    return { info, status };
  } catch {
    return null;
  }
}

/** binaries/<arch>/manifest.json at HEAD, its bytes as committed (what manifest_sha256 hashes), or null. */
export async function readCommittedManifest(storeRoot: string, pkgid: number, archName: string): Promise<Buffer | null> {
  try {
    return await readCommitted(storeRoot, `${storePaths.binaries(pkgid, archName as Arch)}/manifest.json`);
  } catch {
    return null;
  }
}

/** binaries/<arch>/provenance.dsse.json at HEAD, its bytes as committed, or null (a build recorded before provenance was). */
export async function readCommittedProvenance(storeRoot: string, pkgid: number, archName: string): Promise<Buffer | null> {
  try {
    return await readCommitted(storeRoot, `${storePaths.binaries(pkgid, archName as Arch)}/${PROVENANCE_FILE}`);
  } catch {
    return null;
  }
}

/** What an index entry carries so that a client resolves offline (signed-index.ts). */
export interface ResolutionFacts {
  dependencies: Record<string, string>;
  installed_size?: number;
  manifest_sha256?: string;
}

/**
 * The runtime dependencies as declared (submission_info.json), the installed size of this arch's
 * build (status.json) and the sha256 of its manifest (binaries/<arch>/manifest.json), all at HEAD.
 * A field the store lacks (a status or manifest written before it existed) is left out.
 */
export async function readResolutionFacts(storeRoot: string, pkgid: number, archName: string, sub: { info: SubmissionInfo; status: SubmissionStatus }): Promise<ResolutionFacts> {
  const arch = archName as Arch; // a catalog entry's arch, made from a store path of a known arch
  const build = sub.status.builds?.[arch]?.build ?? (sub.status.build?.arch === arch ? sub.status.build : null);
  const manifest = await readCommittedManifest(storeRoot, pkgid, arch);
  const manifestSha = manifest ? createHash('sha256').update(manifest).digest('hex') : undefined;
  return {
    dependencies: { ...(sub.info.dependencies ?? {}) },
    ...(build && Number.isSafeInteger(build.installed_size) && build.installed_size >= 0 ? { installed_size: build.installed_size } : {}),
    ...(manifestSha ? { manifest_sha256: manifestSha } : {}),
  };
}
