// A package as lists see it, made from its flat index: the row a package list shows (kept as its
// JSON text: one string per package is what a page is assembled from, and costs the GC far less
// than an object with a string per field), and the few keys filters, orders and "newest" lists
// look at. Small strings that repeat across packages (categories, tags, submitters, and the
// arrays of them) are interned, so 100,000 summaries share them.
import { compareVersions } from '../../domain/version.js';
import type { Reproducible } from '../../domain/rebuild.js';
import { queryEligible, type PortIndex, type PortIndexEntry } from '../layout/port-index.js';

/** One row of a package list (the API's /api/v1/ports items), fields in this order. */
export interface PortListItem {
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  /** the highest version (then pkgid) among the submissions query URLs could serve (queryEligible:
   *  a maintainer's or an admin's, or the stable one), whatever their build state */
  latest_version: string | null;
  latest_pkgid: number | null;
  /** the latest's rebuild check verdict (domain/rebuild.ts): what ?reproducible= filters on */
  reproducible: Reproducible;
  stable_pkgid: number | null;
  votes: number;
  failures: number;
  updated_at: string;
}

export const PORT_SORTS = ['name', 'updated', 'votes', 'failures'] as const;
export type PortSort = (typeof PORT_SORTS)[number];

export interface PortSummary {
  readonly name: string;
  /** JSON.stringify of the package's PortListItem */
  readonly row: string;
  readonly category: string | null;
  /** the manifest's tags and every tag users put on a submission */
  readonly tags: readonly string[];
  readonly submitters: readonly string[];
  readonly hasStable: boolean;
  /** the latest submission's rebuild check verdict */
  readonly reproducible: Reproducible;
  readonly updatedAt: string;
  readonly votes: number;
  readonly failures: number;
  /** newest pkgid; newest updated_at of a stable and of a failed submission ('' when none) */
  readonly newestPkgid: number;
  readonly stableUpdatedAt: string;
  readonly failedUpdatedAt: string;
}

/** What ?q= searches: the name and the description, lower case. */
export const searchText = (name: string, description: string) => `${name}\n${description.toLowerCase()}`;

/** Interned strings and string lists, shared by every summary of one catalog. Bounded: past its
 *  limit a value is simply not shared. */
export class Interner {
  private strings = new Map<string, string>();
  private lists = new Map<string, readonly string[]>();
  constructor(private readonly limit = 100_000) {}

  str(s: string): string {
    const had = this.strings.get(s);
    if (had !== undefined) return had;
    if (this.strings.size < this.limit) this.strings.set(s, s);
    return s;
  }

  list(xs: Iterable<string>): readonly string[] {
    const arr = [...xs].map((x) => this.str(x));
    const key = arr.join('\u0000');
    const had = this.lists.get(key);
    if (had) return had;
    Object.freeze(arr);
    if (this.lists.size < this.limit) this.lists.set(key, arr);
    return arr;
  }
}

export function summarise(ix: PortIndex, intern: Interner): { summary: PortSummary; text: string } {
  let latest: PortIndexEntry | undefined;
  let stable: PortIndexEntry | undefined;
  let votes = 0;
  let failures = 0;
  let updated = '';
  let stableUpdatedAt = '';
  let failedUpdatedAt = '';
  let newestPkgid = 0;
  const tags = new Set(ix.tags);
  const submitters = new Set<string>();
  for (const s of ix.submissions) {
    // a plain user's submission is listed and counted, but never the package's latest
    if (queryEligible(s)) {
      const c = latest ? compareVersions(s.version, latest.version) : 1;
      if (c > 0 || (c === 0 && s.pkgid > latest!.pkgid)) latest = s;
    }
    if (s.stable) {
      stable ??= s;
      if (s.updated_at > stableUpdatedAt) stableUpdatedAt = s.updated_at;
    }
    if (s.state === 'failed' && s.updated_at > failedUpdatedAt) failedUpdatedAt = s.updated_at;
    votes += s.votes || 0; // a number whatever the file says: the orders compare them
    failures += (s.state === 'failed' ? 1 : 0) + (s.failed_reports || 0);
    if (s.updated_at > updated) updated = s.updated_at;
    if (s.pkgid > newestPkgid) newestPkgid = s.pkgid;
    for (const t of s.tags) tags.add(t);
    submitters.add(s.submitter);
  }
  const reproducible: Reproducible = typeof latest?.reproducible === 'boolean' ? latest.reproducible : 'unchecked';
  const item: PortListItem = {
    name: ix.name, description: ix.description, category: ix.category, tags: ix.tags,
    latest_version: latest?.version ?? null, latest_pkgid: latest?.pkgid ?? null, reproducible, stable_pkgid: stable?.pkgid ?? null,
    votes, failures, updated_at: updated,
  };
  return {
    summary: {
      name: ix.name,
      row: JSON.stringify(item),
      category: ix.category === null ? null : intern.str(ix.category),
      tags: intern.list(tags),
      submitters: intern.list(submitters),
      hasStable: !!stable,
      reproducible,
      updatedAt: updated,
      votes,
      failures,
      newestPkgid,
      stableUpdatedAt,
      failedUpdatedAt,
    },
    text: searchText(ix.name, ix.description),
  };
}

/** Makes a summary that crossed a thread (a copy) share this catalog's interned strings again. */
export function reintern(s: PortSummary, intern: Interner): void {
  const w = s as { -readonly [K in keyof PortSummary]: PortSummary[K] };
  if (w.category !== null) w.category = intern.str(w.category);
  w.tags = intern.list(w.tags);
  w.submitters = intern.list(w.submitters);
  // the copy made three strings of what was often one
  if (w.stableUpdatedAt === w.updatedAt) w.stableUpdatedAt = w.updatedAt;
  if (w.failedUpdatedAt === w.updatedAt) w.failedUpdatedAt = w.updatedAt;
}
