// The documents of a submission as the contract names them: meta/submission_info.json and
// meta/status.json (field names snake_case, times ISO 8601 UTC).
import type { Arch } from './arch.js';
import type { RebuildRecord, Reproducible } from './rebuild.js';

export type BuildState = 'queued' | 'building' | 'good' | 'failed';

export type SubmissionSource =
  | { type: 'git'; repo: string; ref: string; commit: string }
  | { type: 'upload'; filename: string | null };

/**
 * Whether the submitter spoke for the package when the submission was made: a maintainer of it,
 * an admin, or any other registered user (mpwa lets anyone submit a revision of any package; such
 * a submission is listed, built and reachable by its pkgid, but never speaks for the package).
 * Decided by the service at submission time and recorded, never recomputed.
 */
export type SubmitterRole = 'maintainer' | 'admin' | 'user';

export interface SubmissionInfo {
  pkgid: number;
  name: string;
  version: string;
  submitter: string;
  /** absent in submission_info.json written before the field existed: read it with roleOf() */
  submitter_role?: SubmitterRole;
  submitted_at: string;
  source: SubmissionSource;
  /** sha256 of portpkg.tgz, hex */
  sha256: string;
  size: number;
  description: string;
  category: string | null;
  tags: string[];
  dependencies: Record<string, string>;
  build_dependencies: Record<string, string>;
}

/** What roleOf() reads: a submission_info.json, or a port index entry (whose `commit` is null for an upload). */
export type RoleSource =
  | { submitter_role?: SubmitterRole | string; source: SubmissionSource }
  | { submitter_role?: SubmitterRole | string; commit: string | null };

/**
 * The recorded submitter role of a submission or of its index entry. Written before the field
 * existed: a git push always needed a maintainer or an admin ('maintainer'), an upload did not
 * ('user'). A value that is none of the three speaks for nobody ('user').
 */
export function roleOf(x: RoleSource): SubmitterRole {
  const r = x.submitter_role;
  if (r === undefined || r === null) {
    const git = 'source' in x ? x.source?.type === 'git' : x.commit != null;
    return git ? 'maintainer' : 'user';
  }
  return r === 'maintainer' || r === 'admin' ? r : 'user';
}

/** Did the submitter speak for the package (a maintainer or an admin)? Only such submissions
 *  make what the package shows: its description, category and tags. */
export const speaksForPackage = (x: RoleSource): boolean => roleOf(x) !== 'user';

/** What a build measured (the builder's BuildMeasurements is this type). */
export interface BuildMeasurements {
  arch: Arch;
  /** bytes of the regular files the install created or modified, each inode counted once */
  installed_size: number;
  /** wall time of the `build` steps alone */
  compile_seconds: number;
  /** absolute paths, as installed, created by the install */
  files: string[];
  /** absolute paths of files of the base root that the install changed */
  modified_files: string[];
  /** the ELF files among files and modified_files (found by their magic) */
  binaries: string[];
}

export interface BuildRecord extends BuildMeasurements {
  /** pkgids installed into the VM before the build */
  resolved_dependencies: number[];
  phases: Record<string, number>;
}

/** One architecture's build of a submission: status.json `builds[<arch>]`. */
export interface ArchBuildStatus {
  state: BuildState;
  reason: string | null;
  message: string | null;
  /** VM runs started for this arch (infrastructure retries included) */
  attempts: number;
  /** pkgids installed into the VM before the build (empty when resolution failed) */
  resolved_dependencies: number[];
  build: BuildRecord | null;
  updated_at: string;
  /** the rebuild check of a good build (domain/rebuild.ts); absent when none was asked for */
  rebuild?: RebuildRecord;
}

export interface SubmissionStatus {
  state: BuildState;
  /** why it failed: build | timeout | infrastructure | dependency; null otherwise */
  reason: string | null;
  message: string | null;
  updated_at: string;
  /** build attempts started (infrastructure retries included) */
  attempts: number;
  /** the build of the first configured arch (what `builds` holds for it) */
  build: BuildRecord | null;
  /** every configured arch's build; state is good only when each of them is good */
  builds?: Partial<Record<Arch, ArchBuildStatus>>;
  /** the rebuild check's verdict over every configured arch (mergeReproducible); absent in a
   *  status written before the check existed, which reads as "unchecked" */
  reproducible?: Reproducible;
}

export interface BuildReport {
  n: number;
  pkgid: number;
  /** "builder" for the build system's own report, else the user who filed it */
  reporter: string;
  kind: 'builder' | 'user';
  status: 'ok' | 'failed';
  arch: string;
  reason: string | null;
  message: string | null;
  created_at: string;
  /** the log beside it: <n>.log */
  log: string | null;
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** meta/comments/<n>.json */
export interface CommentDoc {
  n: number;
  pkgid: number;
  author: string;
  text: string;
  created_at: string;
}
