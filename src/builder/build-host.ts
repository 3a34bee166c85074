// What a build worker needs from wherever the store lives: claim a job (its arch marked building,
// dependencies resolved), stream its log, record its outcome, release it. The store-backed host
// is service/builds/local-build-host.ts; a remote worker's is remote-build-host.ts (over HTTP).
// A rebuild job (kind 'rebuild') goes through the same three calls: its claim gives the good
// build's inputs and a varied environment, its finish records only the check's verdict.
import type { Manifest } from '../domain/manifest.js';
import type { BuildEnvironment } from '../domain/rebuild.js';
import type { SubmissionInfo } from '../domain/submission.js';
import type { BuildJobRef } from './build-queue.js';
import type { BuildOutcome, DependencyBinaries } from './vm/vm-types.js';

export interface BuildClaim {
  info: SubmissionInfo;
  /** null when package.json does not parse (then dependencyError says why) */
  manifest: Manifest | null;
  /** host folder of the unpacked tree */
  sourceDir: string;
  dependencies: DependencyBinaries[];
  resolved: number[];
  /** this build's attempt number (status.json builds[arch].attempts) */
  attempt: number;
  /** set when dependencies cannot be resolved or the manifest is invalid: the build fails as `dependency` */
  dependencyError: string | null;
  /** SOURCE_DATE_EPOCH and the rest of the environment the VM builds with (a rebuild's is varied) */
  environment?: BuildEnvironment;
  /** set when a remote worker could not fetch the inputs: the attempt ends as an `infrastructure`
   *  failure, so builder.max_attempts bounds it like any other */
  inputError?: string | null;
}

export interface Retry {
  delayMs: number;
}

export interface BuildHost {
  /** marks the arch building and resolves dependencies; null when already built or unknown */
  claim(job: BuildJobRef, workDir: string): Promise<BuildClaim | null>;
  log(job: BuildJobRef, chunk: Buffer): void;
  /** records the outcome; a retry when it was an infrastructure failure with attempts left */
  finish(job: BuildJobRef, claim: Pick<BuildClaim, 'info' | 'resolved' | 'attempt'>, outcome: BuildOutcome): Promise<Retry | void>;
  /** after a claimed build, finished or not: ends its live log */
  release(job: BuildJobRef): void;
}
