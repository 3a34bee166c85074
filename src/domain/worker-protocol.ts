// The internal worker protocol, written once: what a remote build worker (builder/remote-build-host.ts,
// `morphux worker`) and the server (server/routes/worker-api.ts) say to each other, with a worker
// account's token (Bearer):
//   POST WORKER_API_PATH/claim     body: a BuildJobRef (JSON)        → a ClaimAnswer
//   GET  WORKER_API_PATH/binaries/:pkgid/:arch                       → a dependency's files.tar.gz
//   POST WORKER_API_PATH/log?pkgid=&arch=&attempt=   body: log bytes → 204
//   POST WORKER_API_PATH/finish    multipart: FINISH_FORM.result (a FinishResult, JSON),
//                                  .log (build.log), .binaries (files.tar.gz, a good build only)
//                                                                    → a FinishAnswer
// The source itself comes from the public /pkg/<pkgid> (the claim answer's portpkg_url).
import { z } from 'zod';
import { ARCHES, type Arch } from './arch.js';
import { MorphuxError } from './errors.js';
import type { Manifest } from './manifest.js';
import type { BuildEnvironment } from './rebuild.js';
import { vmImageDigestsSchema } from './provenance-statement.js';
import type { SubmissionInfo } from './submission.js';

/** Where the server answers workers. */
export const WORKER_API_PATH = '/internal/worker';
/** The routes under WORKER_API_PATH, as the server declares them. */
export const WORKER_ROUTES = {
  claim: '/claim',
  binaries: '/binaries/:pkgid/:arch',
  log: '/log',
  finish: '/finish',
} as const;

export const JOB_KINDS = ['build', 'rebuild'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A build job: one architecture of one submission; its key is "<pkgid>:<arch>". A rebuild job
 *  (kind "rebuild": the rebuild check of a good build, domain/rebuild.ts) is another job of the
 *  same build, keyed "<pkgid>:<arch>:rebuild"; no kind is a build. */
export interface BuildJobRef {
  pkgid: number;
  arch: Arch;
  kind?: JobKind;
}
export const isRebuild = (j: BuildJobRef): boolean => j.kind === 'rebuild';
export const jobKey = (j: BuildJobRef): string => `${j.pkgid}:${j.arch}${isRebuild(j) ? ':rebuild' : ''}`;
/** The job of a key (jobKey's inverse). */
export const jobOf = (pkgid: number, arch: Arch, kind?: unknown): BuildJobRef => (kind === 'rebuild' ? { pkgid, arch, kind: 'rebuild' } : { pkgid, arch });

const jobRefSchema = z.object({ pkgid: z.number().int().positive(), arch: z.enum(ARCHES), kind: z.enum(JOB_KINDS).optional() });

/** The paths a worker calls (on the server's origin). */
export const workerPaths = {
  claim: `${WORKER_API_PATH}${WORKER_ROUTES.claim}`,
  binaries: (job: BuildJobRef): string => `${WORKER_API_PATH}/binaries/${job.pkgid}/${job.arch}`,
  log: (q: LogChunkQuery): string => `${WORKER_API_PATH}${WORKER_ROUTES.log}?pkgid=${q.pkgid}&arch=${q.arch}&attempt=${q.attempt}`,
  finish: `${WORKER_API_PATH}${WORKER_ROUTES.finish}`,
};

/** The server's answer to a claim: nothing to build (already built, unknown), or the build's inputs. */
export type ClaimAnswer = { claimed: false } | {
  claimed: true;
  info: SubmissionInfo;
  /** null when package.json does not parse (then dependency_error says why) */
  manifest: Manifest | null;
  /** this build's attempt number (a rebuild job's: its check's): the log chunks and the finish carry it */
  attempt: number;
  /** SOURCE_DATE_EPOCH and the environment the VM builds with (a rebuild's is varied); absent
   *  from a server before it: the worker builds as before */
  environment?: BuildEnvironment;
  resolved: number[];
  dependency_error: string | null;
  /** where the worker fetches the source (the public /pkg/<pkgid>) */
  portpkg_url: string;
  /** in install order; url: workerPaths.binaries */
  dependencies: { pkgid: number; name: string; version: string; url: string }[];
};

/** The query of a log chunk (the body is the chunk's bytes): chunks of an attempt that is no longer
 *  the current one are dropped. */
export interface LogChunkQuery extends BuildJobRef {
  attempt: number;
}
const logChunkSchema = jobRefSchema.extend({ attempt: z.number().int().positive() });

export const FAILURE_REASONS = ['build', 'timeout', 'infrastructure', 'dependency'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The names of the finish form's parts. */
export const FINISH_FORM = { result: 'result', log: 'log', binaries: 'binaries' } as const;

const finishResultSchema = jobRefSchema.extend({
  attempt: z.number().int().positive(),
  resolved: z.array(z.number().int().positive()),
  outcome: z.object({
    state: z.enum(['good', 'failed']),
    reason: z.enum(FAILURE_REASONS).nullable(),
    message: z.string(),
    measurements: z.any().nullable(),
    installed: z.array(z.any()),
    phases: z.record(z.string(), z.number()),
    // for the build's provenance (domain/provenance-statement.ts); optional: a worker from before them still finishes
    /** sha256 of the base image, kernel and initrd the VM booted */
    vm: vmImageDigestsSchema.nullable().optional(),
    /** when the runner started and ended the build (ISO 8601 UTC) */
    started_at: z.string().datetime().optional(),
    finished_at: z.string().datetime().optional(),
    /** a good rebuild's files.tar.gz sha256 (a rebuild uploads no binaries) */
    binaries_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  }),
});
/** The finish form's result part: the build's outcome, without its files (the other parts). */
export type FinishResult = z.infer<typeof finishResultSchema>;

/** The server's answer to a finish: retry_ms when the attempt was an infrastructure failure to be
 *  retried after that delay. */
export interface FinishAnswer {
  recorded: true;
  retry_ms: number | null;
}

function parsed<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new MorphuxError('bad_request', `bad worker request: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** A job reference: a claim's body, or the binaries route's parameters (pkgid as text). */
export const parseJobRef = (v: unknown): BuildJobRef => parsed(jobRefSchema, v);

/** A log chunk's query parameters (as the URL gives them: text). */
export const parseLogChunkQuery = (q: Record<string, string | undefined>): LogChunkQuery =>
  parsed(logChunkSchema, { pkgid: Number(q.pkgid), arch: q.arch, attempt: Number(q.attempt) });

/** The finish form's result part, once read as JSON. */
export const parseFinishResult = (v: unknown): FinishResult => parsed(finishResultSchema, v);
