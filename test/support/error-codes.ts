// The error a call ends with, read the way tests check refusals: by its code (a MorphuxError's),
// not by the words of its message.
import { isMorphuxError, type MorphuxError } from '../../src/domain/errors.js';

/** The code of the MorphuxError `f` throws ('other' for any other error); null when it returns. */
export function codeOf(f: () => unknown): string | null {
  try {
    f();
  } catch (e) {
    return isMorphuxError(e) ? e.code : 'other';
  }
  return null;
}

/** codeOf for a promise, or a call that may return one. */
export async function asyncCodeOf(p: Promise<unknown> | (() => unknown)): Promise<string | null> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return isMorphuxError(e) ? e.code : 'other';
  }
  return null;
}

/** The MorphuxError a promise rejects with (its code, and its message where the words are the
 *  point); throws when it resolves, or rejects with anything else. */
export async function refusal(p: Promise<unknown>): Promise<MorphuxError> {
  try {
    await p;
  } catch (e) {
    if (isMorphuxError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal, the call succeeded');
}
