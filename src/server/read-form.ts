// Reads a website form (application/x-www-form-urlencoded) with a size limit enforced while
// reading, declared or chunked (read-body.ts): 413 past it, 415 for another type. Empty fields
// are left out, so a blank optional field and a missing one mean the same.
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';
import { decodeUtf8 } from '../domain/untrusted-text.js';
import { readBody } from './read-body.js';

export async function readForm(c: Context, limit: number): Promise<Record<string, string>> {
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new MorphuxError('unsupported_media_type', 'a form is sent as application/x-www-form-urlencoded');
  }
  const text = decodeUtf8(await readBody(c, limit), 'bad_request', 'the form');
  const form: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) if (v !== '' && !(k in form)) form[k] = v;
  return form;
}
