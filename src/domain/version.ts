// Versions and ranges of the contract: versions are dot-separated parts compared part by part,
// numerically where both parts are numbers; a range is space-separated comparisons
// (>=, >, <=, <, =) or `*`. Version branches are `version-<version>`.
import { MorphuxError } from './errors.js';

const VERSION = /^[0-9A-Za-z]+(?:[._+~-][0-9A-Za-z]+)*$/;
const PART_SPLIT = /\./;
export const VERSION_BRANCH_PREFIX = 'refs/heads/version-';

export function isVersion(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 64 && VERSION.test(v);
}

export function checkVersion(v: unknown): string {
  if (!isVersion(v)) throw new MorphuxError('invalid_version', `invalid version ${JSON.stringify(v)}: want dot-separated parts such as 1.2.3`);
  return v;
}

const NUMERIC = /^[0-9]+$/;

/** Negative, zero or positive as a < b, a = b, a > b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(PART_SPLIT);
  const pb = b.split(PART_SPLIT);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1; // 1.0 < 1.0.1
    if (y === undefined) return 1;
    if (x === y) continue;
    if (NUMERIC.test(x) && NUMERIC.test(y)) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      continue; // 01 = 1
    }
    return x < y ? -1 : 1;
  }
  return 0;
}

type Op = '>=' | '>' | '<=' | '<' | '=';
export interface Comparison {
  op: Op;
  version: string;
}
/** A parsed range: all comparisons must hold; an empty list is `*`. */
export type Range = Comparison[];

const COMPARISON = /^(>=|<=|>|<|=)?(.+)$/;

export function parseRange(text: unknown): Range {
  if (typeof text !== 'string' || text.trim() === '') throw new MorphuxError('invalid_version', `invalid range ${JSON.stringify(text)}`);
  const t = text.trim();
  if (t === '*') return [];
  return t.split(/\s+/).map((part) => {
    const m = COMPARISON.exec(part);
    if (!m || !isVersion(m[2])) throw new MorphuxError('invalid_version', `invalid range ${JSON.stringify(text)}: "${part}" is not a comparison such as >=1.2`);
    return { op: (m[1] ?? '=') as Op, version: m[2] };
  });
}

export function satisfies(version: string, range: Range): boolean {
  return range.every(({ op, version: v }) => {
    const c = compareVersions(version, v);
    switch (op) {
      case '>=': return c >= 0;
      case '>': return c > 0;
      case '<=': return c <= 0;
      case '<': return c < 0;
      case '=': return c === 0;
    }
  });
}

/** The version a ref names when it is a version branch, else null. */
export function versionOfRef(ref: string): string | null {
  return ref.startsWith(VERSION_BRANCH_PREFIX) ? ref.slice(VERSION_BRANCH_PREFIX.length) : null;
}
