// Reads a JSON request body with a size limit; malformed JSON or a non-object is a 400.
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';
import { readBody } from './read-body.js';

export async function readJsonBody(c: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
  const bytes = await readBody(c, limit);
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new MorphuxError('bad_request', 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MorphuxError('bad_request', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}
