// Reads a request body into memory, refusing (413) as soon as it passes the limit.
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';

export async function readBody(c: Context, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > limit) throw new MorphuxError('too_large', `the body is over ${limit} bytes`);
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let n = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > limit) {
      await reader.cancel().catch(() => {});
      throw new MorphuxError('too_large', `the body is over ${limit} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}
