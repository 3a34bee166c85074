// The grammars of names users choose: package names (the contract's `[a-z0-9][a-z0-9+._-]*`),
// user names, tags and token names. A name that passes here is safe as one path segment.
import { MorphuxError } from './errors.js';

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]*$/;
const USER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const TAG = /^[a-z0-9][a-z0-9+._-]*$/;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_NAME_LENGTH = 64;

function checked(kind: string, re: RegExp, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH || !re.test(value)) {
    throw new MorphuxError('invalid_name', `invalid ${kind} ${JSON.stringify(String(value).slice(0, 80))}: want ${re.source.slice(1, -1)}, at most ${MAX_NAME_LENGTH} characters`, { kind });
  }
  // "..", ".git" suffixes and the like would be ambiguous on disk and in URLs
  if (value.includes('..') || value.endsWith('.git') || value.endsWith('.')) {
    throw new MorphuxError('invalid_name', `invalid ${kind} ${JSON.stringify(value)}: no "..", no trailing "." or ".git"`, { kind });
  }
  return value;
}

export const isPackageName = (v: unknown): boolean => typeof v === 'string' && safe(() => checkPackageName(v));
export const checkPackageName = (v: unknown): string => checked('package name', PACKAGE_NAME, v);
export const checkUserName = (v: unknown): string => checked('user name', USER_NAME, v);
export const checkTag = (v: unknown): string => checked('tag', TAG, v);
export const checkTokenName = (v: unknown): string => checked('token name', TOKEN_NAME, v);

function safe(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/** A pkgid: 1 to 99,999,999 (the store's %08d folders), as a number or its decimal text. */
export function checkPkgid(pkgid: unknown): number {
  const n = typeof pkgid === 'string' && /^[0-9]{1,10}$/.test(pkgid) ? Number(pkgid) : pkgid;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 99_999_999) throw new RangeError(`not a pkgid: ${String(pkgid)}`);
  return n;
}
