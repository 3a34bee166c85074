// Package search over the flat indexes (mpwa's query): q matches name and description, filters
// by tag (the manifest's or a user's), category, stable (true|false) and submitter; sorted by
// name (A–Z), updated (newest first), votes or failures (most first: failed builds plus failed
// user reports, over all submissions), ties by name.
import { MorphuxError } from '../domain/errors.js';
import { checkTag, checkUserName } from '../domain/names.js';
import { PORT_SORTS, type PortListItem, type PortSort } from '../store/port-catalog.js';
import type { AppContext } from './app-context.js';

export { PORT_SORTS, type PortListItem } from '../store/port-catalog.js';

export interface PortQuery {
  q?: string;
  tag?: string;
  category?: string;
  stable?: string;
  submitter?: string;
  sort?: string;
}

/** The matching packages' rows, in the asked order (PortCatalog.select). */
export async function queryPorts(ctx: Pick<AppContext, 'catalog'>, query: PortQuery): Promise<ReadonlyArray<PortListItem>> {
  const q = (query.q ?? '').trim().toLowerCase();
  if (q.length > 200) throw new MorphuxError('bad_request', 'q is at most 200 characters');
  const tag = query.tag ? checkTag(query.tag) : undefined;
  const category = query.category ? checkTag(query.category) : undefined;
  const submitter = query.submitter ? checkUserName(query.submitter) : undefined;
  const sort = query.sort ?? 'name';
  if (!(PORT_SORTS as readonly string[]).includes(sort)) throw new MorphuxError('bad_request', `sort must be one of ${PORT_SORTS.join(', ')}`);
  if (query.stable !== undefined && query.stable !== '' && !['true', 'false'].includes(query.stable)) throw new MorphuxError('bad_request', 'stable must be true or false');
  const stable = query.stable === 'true' ? true : query.stable === 'false' ? false : undefined;

  const filter = { q: q || undefined, tag, category, submitter, stable };
  if (!filter.q && !tag && !category && !submitter && stable === undefined) return ctx.catalog.orderedItems(sort as PortSort);
  return (await ctx.catalog.select(filter, sort as PortSort)).map((s) => s.item);
}
