// The rebuild check: a good build built again in another fresh VM with a varied environment, and
// the two results compared file by file (path, type, mode, sha256, link target). Owns the two
// build environments, the comparison (two manifests → a verdict and the differing files), the
// per-arch record status.json keeps (`builds.<arch>.rebuild`), the submission's merged verdict
// (`reproducible: true | false | "unchecked"`) and which good builds get the check (builder.rebuild).
import { createHash } from 'node:crypto';
import type { Arch } from './arch.js';
import { MorphuxError } from './errors.js';

/** A submission's verdict, as status.json, the API and `?reproducible=` say it. */
export type Reproducible = true | false | 'unchecked';
export const REPRODUCIBLE_FILTERS = ['true', 'false', 'unchecked'] as const;

/** `?reproducible=` as a filter: undefined when absent or empty; bad_request for anything else. */
export function parseReproducibleFilter(v: string | undefined): Reproducible | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'unchecked') return 'unchecked';
  throw new MorphuxError('bad_request', `reproducible must be one of ${REPRODUCIBLE_FILTERS.join(', ')}`);
}

/**
 * What a build's guest runs with (phase scripts and guest/env.sh). Both builds export the same
 * SOURCE_DATE_EPOCH (the commit's time) and build in the same fixed path (/build: a path is part
 * of what a build is, as Debian's buildinfo records it); the rebuild varies the rest, after
 * Debian's reprotest: time zone, locale, umask, host name and the clock (a year and some hours on).
 */
export interface BuildEnvironment {
  source_date_epoch: number;
  tz: string;
  lang: string;
  /** octal text, e.g. 0022 */
  umask: string;
  hostname: string;
  /** added to the guest's clock before the build (seconds) */
  clock_shift_seconds: number;
}

/** The first build's environment: what every build runs with. */
export const firstBuildEnvironment = (sourceDateEpoch: number): BuildEnvironment => ({
  source_date_epoch: sourceDateEpoch, tz: 'UTC', lang: 'C.UTF-8', umask: '0022', hostname: 'morphux-build', clock_shift_seconds: 0,
});

/** The rebuild's: every varied fact differs from the first build's. */
export const rebuildEnvironment = (sourceDateEpoch: number): BuildEnvironment => ({
  source_date_epoch: sourceDateEpoch,
  // POSIX zones need no tzdata in the root: GMT-14 is UTC+14 (Kiribati), a day away from UTC
  tz: 'GMT-14',
  // as reprotest: the build root has no locale but C.UTF-8, so glibc falls back to C, but every
  // program that reads LANG/LC_ALL itself sees another one (bash says so once per step in the log)
  lang: 'fr_CH.UTF-8',
  umask: '0002',
  hostname: 'morphux-rebuild',
  // one year, 7 hours and 13 minutes on
  clock_shift_seconds: 366 * 86400 + 7 * 3600 + 13 * 60,
});

/** One file of a build's manifest (binaries/<arch>/manifest.json `files`, InstalledEntry). */
export interface ManifestFile {
  path: string;
  type: string;
  mode: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** A file as the comparison sees it: what differs between two builds of one path. */
export interface FileFacts {
  type: string;
  /** octal text, e.g. 0755 */
  mode: string;
  sha256: string | null;
  target: string | null;
}

/** One path whose facts differ; null on the side that does not have it. */
export interface RebuildDifference {
  path: string;
  first: FileFacts | null;
  second: FileFacts | null;
}

/** At most this many differing files are recorded (differences_total counts them all). */
export const MAX_RECORDED_DIFFERENCES = 200;

const facts = (f: ManifestFile): FileFacts => ({
  type: f.type, mode: (f.mode & 0o7777).toString(8).padStart(4, '0'), sha256: f.sha256 ?? null, target: f.target ?? null,
});
const same = (a: FileFacts, b: FileFacts) => a.type === b.type && a.mode === b.mode && a.sha256 === b.sha256 && a.target === b.target;

/** Compares two builds' manifests file by file: reproducible when every path has the same facts. */
export function compareManifests(first: readonly ManifestFile[], second: readonly ManifestFile[]): { reproducible: boolean; differences: RebuildDifference[] } {
  const a = new Map(first.map((f) => [f.path, facts(f)]));
  const b = new Map(second.map((f) => [f.path, facts(f)]));
  const differences: RebuildDifference[] = [];
  for (const p of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(p) ?? null;
    const y = b.get(p) ?? null;
    if (x && y && same(x, y)) continue;
    differences.push({ path: p, first: x, second: y });
  }
  return { reproducible: differences.length === 0, differences };
}

/**
 * One arch's rebuild check (status.json `builds.<arch>.rebuild`): queued (its durable job, like a
 * queued build's status), running, done (a verdict) or failed (the rebuild could not give one:
 * its VM failed or timed out; the verdict stays unchecked, message says why).
 */
export interface RebuildRecord {
  state: 'queued' | 'running' | 'done' | 'failed';
  /** null until done */
  reproducible: boolean | null;
  /** VM runs started for this check */
  attempts: number;
  requested_at: string;
  checked_at: string | null;
  message: string | null;
  /** the environment the rebuild ran with */
  environment: BuildEnvironment | null;
  /** the files that differ, path order, at most MAX_RECORDED_DIFFERENCES */
  differences: RebuildDifference[];
  differences_total: number;
  /** sha256 of the two binaries archives (files.tar.gz), when known: equal when the packing is deterministic too */
  binaries_sha256: { first: string; second: string } | null;
}

export function queuedRebuild(requestedAt: string): RebuildRecord {
  return {
    state: 'queued', reproducible: null, attempts: 0, requested_at: requestedAt, checked_at: null, message: null,
    environment: null, differences: [], differences_total: 0, binaries_sha256: null,
  };
}

/** The verdict of a finished comparison, as recorded. */
export function doneRebuild(r: RebuildRecord, cmp: { reproducible: boolean; differences: RebuildDifference[] }, at: string, extra: Pick<RebuildRecord, 'environment' | 'binaries_sha256'>): RebuildRecord {
  const n = cmp.differences.length;
  return {
    ...r, ...extra, state: 'done', reproducible: cmp.reproducible, checked_at: at,
    message: cmp.reproducible ? 'reproducible: the rebuild installed the same files' : `not reproducible: ${n} file${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''}`,
    differences: cmp.differences.slice(0, MAX_RECORDED_DIFFERENCES), differences_total: n,
  };
}

/** The submission's verdict from its arches' records: false as soon as one arch is not
 *  reproducible, true when every configured arch is, else unchecked. */
export function mergeReproducible(builds: Partial<Record<Arch, { rebuild?: RebuildRecord }>> | undefined, arches: readonly Arch[]): Reproducible {
  const rs = arches.map((a) => builds?.[a]?.rebuild);
  if (rs.some((r) => r?.state === 'done' && r.reproducible === false)) return false;
  if (rs.length && rs.every((r) => r?.state === 'done' && r.reproducible === true)) return true;
  return 'unchecked';
}

/** builder.rebuild: which good builds get the check. */
export interface RebuildPolicy {
  when: 'every' | 'sample' | 'none';
  /** with sample: the share of good builds rebuilt, 0 to 1 */
  sample_rate: number;
}

/** Whether a good build gets the check: every, none, or a sample chosen by a hash of pkgid and
 *  arch (the same answer each time it is asked). */
export function rebuildWanted(policy: RebuildPolicy, pkgid: number, arch: Arch): boolean {
  if (policy.when === 'every') return true;
  if (policy.when === 'none') return false;
  const h = createHash('sha256').update(`${pkgid}:${arch}`).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < policy.sample_rate;
}
