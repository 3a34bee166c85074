// Percent-decoding of a path taken from a request: a malformed encoding (`%E0%A4%A`, a lone `%`)
// is the client's mistake, answered 400 bad_request, never an exception that becomes a 500.
import { MorphuxError } from '../domain/errors.js';

export function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new MorphuxError('bad_request', 'the path has a malformed percent-encoding');
  }
}
