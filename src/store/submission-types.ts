// The documents of a submission as the contract names them: meta/submission_info.json and
// meta/status.json (field names snake_case, times ISO 8601 UTC).
import type { Arch } from '../config/config-schema.js';
import type { BuildState } from './port-index.js';

export type SubmissionSource =
  | { type: 'git'; repo: string; ref: string; commit: string }
  | { type: 'upload'; filename: string | null };

export interface SubmissionInfo {
  pkgid: number;
  name: string;
  version: string;
  submitter: string;
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
