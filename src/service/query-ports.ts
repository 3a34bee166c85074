// Package search over the flat indexes (mpwa's query): q matches name and description, filters
// by tag (the manifest's or a user's), category, stable (true|false), submitter and the latest
// submission's rebuild check (reproducible: true|false|unchecked); sorted by
// name (A–Z), updated (newest first), votes or failures (most first: failed builds plus failed
// user reports, over all submissions), ties by name.
import { MorphuxError } from '../domain/errors.js';
import { checkTag, checkUserName } from '../domain/names.js';
import { parseReproducibleFilter } from '../domain/rebuild.js';
import { PORT_SORTS, type PortPage, type PortSort } from '../store/catalog/port-catalog.js';
import type { AppContext } from './app-context.js';

export { PORT_SORTS, type PortListItem, type PortPage } from '../store/catalog/port-catalog.js';

export interface PortQuery {
  q?: string;
  tag?: string;
  category?: string;
  stable?: string;
  submitter?: string;
  reproducible?: string;
  sort?: string;
}

/** Rows offset … offset+limit-1 of the matching packages, in the asked order, as JSON text, and
 *  how many match (PortCatalog.page). */
export async function queryPorts(ctx: Pick<AppContext, 'catalog'>, query: PortQuery, offset: number, limit: number): Promise<PortPage> {
  const q = (query.q ?? '').trim().toLowerCase();
  if (q.length > 200) throw new MorphuxError('bad_request', 'q is at most 200 characters');
  const tag = query.tag ? checkTag(query.tag) : undefined;
  const category = query.category ? checkTag(query.category) : undefined;
  const submitter = query.submitter ? checkUserName(query.submitter) : undefined;
  const sort = query.sort ?? 'name';
  if (!(PORT_SORTS as readonly string[]).includes(sort)) throw new MorphuxError('bad_request', `sort must be one of ${PORT_SORTS.join(', ')}`);
  if (query.stable !== undefined && query.stable !== '' && !['true', 'false'].includes(query.stable)) throw new MorphuxError('bad_request', 'stable must be true or false');
  const stable = query.stable === 'true' ? true : query.stable === 'false' ? false : undefined;

  const reproducible = parseReproducibleFilter(query.reproducible);

  return ctx.catalog.page({ q: q || undefined, tag, category, submitter, stable, reproducible }, sort as PortSort, offset, limit);
}
