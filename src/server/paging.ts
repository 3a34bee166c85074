// Paging of list answers {"items", "total", "next"}: `limit` (1–500, default 50) and `next`, an
// opaque cursor taken from the previous answer (today the offset of the next item, as text).
import type { Context } from 'hono';
import { MorphuxError } from '../domain/errors.js';

export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}

/** The window a request asks for: `next` (an offset) and `limit`. */
export function pageWindow(c: Context): { offset: number; limit: number } {
  const limitText = c.req.query('limit');
  const cursor = c.req.query('next');
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new MorphuxError('bad_request', 'limit must be a whole number from 1 to 500');
  const offset = cursor === undefined || cursor === '' ? 0 : Number(cursor);
  if (!/^[0-9]{0,9}$/.test(cursor ?? '') || !Number.isSafeInteger(offset)) throw new MorphuxError('bad_request', 'next must be a cursor from a previous answer');
  return { offset, limit };
}

export function paged<T>(c: Context, all: ReadonlyArray<T>): Page<T> {
  const { offset, limit } = pageWindow(c);
  return { items: all.slice(offset, offset + limit), total: all.length, next: offset + limit < all.length ? String(offset + limit) : null };
}

/** A page whose items are already JSON text (a list answered without building its objects), as
 *  the JSON paged() would give. */
export function pagedJson(offset: number, limit: number, total: number, rows: ReadonlyArray<string>): string {
  const next = offset + limit < total ? `"${offset + limit}"` : 'null';
  return `{"items":[${rows.join(',')}],"total":${total},"next":${next}}`;
}
