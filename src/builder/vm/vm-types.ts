// The narrow interface between the build worker and whatever runs a build in a virtual machine.
// The worker hands a BuildJob to a VmRunner and gets a BuildOutcome back; nothing else crosses.
import type { Arch } from '../../domain/arch.js';
import type { Manifest } from '../../domain/manifest.js';
import type { BuildEnvironment } from '../../domain/rebuild.js';
import type { VmImageDigests } from '../../domain/provenance-statement.js';
import type { BuildMeasurements } from '../../domain/submission.js';
import type { FailureReason } from '../../domain/worker-protocol.js';

export interface DependencyBinaries {
  pkgid: number;
  name: string;
  version: string;
  /** path on the host of the dependency's binaries archive (binaries/<arch>/files.tar.gz) */
  archive: string;
}

export interface BuildJob {
  pkgid: number;
  arch: Arch;
  /** host folder holding the package's unpacked tree (read only for the runner) */
  sourceDir: string;
  manifest: Manifest;
  /** resolved dependencies, installed into the VM in this order before `build` */
  dependencies: DependencyBinaries[];
  /** an empty host folder the runner owns for this job (disks, logs); removed by the caller */
  workDir: string;
  timeoutSeconds: number;
  /** kill the VM when its log stays silent this long (reason timeout); 0 or absent: no idle limit */
  idleSeconds?: number;
  memoryMib: number;
  cpus: number;
  /** SOURCE_DATE_EPOCH, time zone, locale, umask, host name and clock shift the guest builds with
   *  (domain/rebuild.ts); absent: the first build's, with SOURCE_DATE_EPOCH unset */
  environment?: BuildEnvironment;
  /** every chunk of the build's log as it comes (for live logs) */
  onLog?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export type { BuildMeasurements, FailureReason };

export interface InstalledEntry {
  path: string;
  type: 'file' | 'symlink' | 'dir' | 'hardlink';
  size: number;
  mode: number;
  sha256?: string;
  target?: string;
}

export interface PhaseTimes {
  /** VM process start to the first build command */
  boot_seconds: number;
  build_seconds: number;
  install_seconds: number;
  /** VM process start to its exit */
  total_seconds: number;
  /** a VM restored from a snapshot (vm-snapshot.ts): its start to the guest running and handed its job */
  restore_seconds: number;
}

export interface BuildOutcome {
  state: 'good' | 'failed';
  reason: FailureReason | null;
  /** one line for people: why it failed, or "built" */
  message: string;
  /** the full build log (host file in workDir) */
  logFile: string;
  measurements: BuildMeasurements | null;
  /** tar.gz of the installed files (paths relative to /), in workDir; only when good */
  binariesArchive: string | null;
  /** what the archive holds, one entry per path */
  installed: InstalledEntry[];
  phases: Partial<PhaseTimes>;
  /** sha256 of the base image, kernel and initrd the VM booted (a good build's provenance names them) */
  vm?: VmImageDigests | null;
  /** when the runner started and ended the build (ISO 8601 UTC), for its provenance */
  started_at?: string;
  finished_at?: string;
}

export interface VmRunner {
  run(job: BuildJob): Promise<BuildOutcome>;
}
