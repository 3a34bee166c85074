// Package search over the flat indexes (mpwa's query): q matches name and description, filters
// by tag (the manifest's or a user's), category, stable (true|false) and submitter; sorted by
// name (A–Z), updated (newest first), votes or failures (most first: failed builds plus failed
// user reports, over all submissions), ties by name.
import { MorphuxError } from '../domain/errors.js';
import { checkTag, checkUserName } from '../domain/names.js';
import { compareVersions } from '../domain/version.js';
import type { AppContext } from './app-context.js';

export const PORT_SORTS = ['name', 'updated', 'votes', 'failures'] as const;

export interface PortQuery {
  q?: string;
  tag?: string;
  category?: string;
  stable?: string;
  submitter?: string;
  sort?: string;
}

export interface PortListItem {
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  latest_version: string | null;
  latest_pkgid: number | null;
  stable_pkgid: number | null;
  votes: number;
  failures: number;
  updated_at: string;
}

export async function queryPorts(ctx: Pick<AppContext, 'catalog'>, query: PortQuery): Promise<PortListItem[]> {
  const q = (query.q ?? '').trim().toLowerCase();
  if (q.length > 200) throw new MorphuxError('bad_request', 'q is at most 200 characters');
  const tag = query.tag ? checkTag(query.tag) : undefined;
  const category = query.category ? checkTag(query.category) : undefined;
  const submitter = query.submitter ? checkUserName(query.submitter) : undefined;
  const sort = query.sort ?? 'name';
  if (!(PORT_SORTS as readonly string[]).includes(sort)) throw new MorphuxError('bad_request', `sort must be one of ${PORT_SORTS.join(', ')}`);
  if (query.stable !== undefined && query.stable !== '' && !['true', 'false'].includes(query.stable)) throw new MorphuxError('bad_request', 'stable must be true or false');
  const stable = query.stable === 'true' ? true : query.stable === 'false' ? false : undefined;

  const items: PortListItem[] = [];
  for (const ix of await ctx.catalog.all()) {
    const name = ix.name;
    const subs = ix.submissions;
    if (q && !name.includes(q) && !ix.description.toLowerCase().includes(q)) continue;
    if (tag && !ix.tags.includes(tag) && !subs.some((s) => s.tags.includes(tag))) continue;
    if (category && ix.category !== category) continue;
    if (submitter && !subs.some((s) => s.submitter === submitter)) continue;
    const stableEntry = subs.find((s) => s.stable);
    if (stable !== undefined && !!stableEntry !== stable) continue;
    const latest = [...subs].sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid)[0];
    items.push({
      name, description: ix.description, category: ix.category, tags: ix.tags,
      latest_version: latest?.version ?? null, latest_pkgid: latest?.pkgid ?? null, stable_pkgid: stableEntry?.pkgid ?? null,
      votes: subs.reduce((n, s) => n + s.votes, 0),
      failures: subs.reduce((n, s) => n + (s.state === 'failed' ? 1 : 0) + s.failed_reports, 0),
      updated_at: subs.reduce((m, s) => (s.updated_at > m ? s.updated_at : m), ''),
    });
  }
  const byName = (a: PortListItem, b: PortListItem) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const order: Record<string, (a: PortListItem, b: PortListItem) => number> = {
    name: byName,
    updated: (a, b) => b.updated_at.localeCompare(a.updated_at) || byName(a, b),
    votes: (a, b) => b.votes - a.votes || byName(a, b),
    failures: (a, b) => b.failures - a.failures || byName(a, b),
  };
  return items.sort(order[sort]);
}
