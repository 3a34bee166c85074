// The fields use cases' input schemas share, so that a JSON body, a form and a command line give
// the same value the same meaning: pkgids, yes/no flags, tags, user-written text.
import { z } from 'zod';
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName, checkTag, checkTokenName, checkUserName } from '../domain/names.js';
import { hasControlChars } from '../domain/untrusted-text.js';
import { checkPkgid } from '../domain/names.js';

// a name's own check throws its typed error (invalid_name), which passes through the schema
const by = <T>(check: (v: unknown) => T) => z.unknown().transform((v) => check(v));

/** A pkgid; one that cannot exist names no submission (not_found). */
export const pkgidField = z.unknown().transform((v) => {
  try {
    return checkPkgid(v);
  } catch {
    throw new MorphuxError('not_found', `no submission with pkgid ${JSON.stringify(String(v).slice(0, 20))}`);
  }
});
export const tagField = by(checkTag);
export const userField = by(checkUserName);
export const packageField = by(checkPackageName);
export const tokenNameField = by(checkTokenName);

/** true/false, or the strings a form sends ("true"/"false", "on"). */
export const flagField = z.union([z.boolean(), z.enum(['true', 'false', 'on']).transform((s) => s !== 'false')]);

/** Text people wrote, shown to others: no control characters but tab and newline. */
export const textField = (max: number, opts: { min?: number } = {}) =>
  z.string().trim().min(opts.min ?? 0).max(max).refine((s) => !hasControlChars(s), 'holds a control character (only tab and newline are allowed)');

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
/** An ISO 8601 UTC time in the future. */
export const futureTimeField = z.string().regex(ISO_UTC, 'must be ISO 8601 UTC (2030-01-31T00:00:00Z)')
  .transform((s) => new Date(Date.parse(s)))
  .refine((d) => d.getTime() > Date.now(), 'must be in the future');
