// Reads a JSON request body with a size limit; bytes that are not UTF-8, malformed JSON, a key
// reaching a prototype (__proto__, constructor, prototype) or a non-object is a 400 bad_request.
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';
import { decodeUtf8, parseUntrustedJson } from '../domain/untrusted-text.js';
import { readBody } from './read-body.js';

export async function readJsonBody(c: Context, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBody(c, limit);
  const v = parseUntrustedJson(decodeUtf8(bytes, 'bad_request', 'the body'), 'bad_request', 'the body');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MorphuxError('bad_request', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
