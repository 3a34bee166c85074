// How every command-line program of the project ends on an error: one line on stderr (a typed
// error's message and its code in parentheses) and a non-zero exit. Shared by `morphux` and `mpm`.
import { isMorphuxError } from '../domain/errors.js';

export function fail(message: string, code = 1): never {
  process.stderr.write(`${message.split('\n')[0]}\n`);
  process.exit(code);
}

/** Runs a command body; any error becomes one line on stderr and exit 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isMorphuxError(e)) fail(`error: ${e.message} (${e.code})`);
      fail(`error: ${(e as Error).message ?? String(e)}`);
    }
  };
}
