// Paging of list answers {"items", "total", "next"}: `limit` (1–500, default 50) and `next`, an
// opaque cursor taken from the previous answer (today the offset of the next item, as text).
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';

export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}

export function paged<T>(c: Context, all: ReadonlyArray<T>): Page<T> {
  const limitText = c.req.query('limit');
  const cursor = c.req.query('next');
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new MorphuxError('bad_request', 'limit must be a whole number from 1 to 500');
  const offset = cursor === undefined || cursor === '' ? 0 : Number(cursor);
  if (!/^[0-9]{0,9}$/.test(cursor ?? '') || !Number.isSafeInteger(offset)) throw new MorphuxError('bad_request', 'next must be a cursor from a previous answer');
  return { items: all.slice(offset, offset + limit), total: all.length, next: offset + limit < all.length ? String(offset + limit) : null };
}
