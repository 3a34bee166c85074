// The flat per-package index, index/ports/<letter>/<name>.json, kept with lowdb: one small file
// per package (lowdb rewrites a whole file on every write), written only inside a store
// transaction, whose commit makes it durable. Everything in it can be rebuilt from the tree (reindex.ts).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { readJsonFileSync } from '../../lib/atomic-write.js';
import type { IndexedBuilds } from './indexed-builds.js';
import { storePaths } from './store-paths.js';
import type { Store, Tx } from '../tree/store.js';
import { speaksForPackage, type BuildState, type SubmissionStatus, type SubmitterRole } from '../../domain/submission.js';

export interface PortIndexEntry {
  pkgid: number;
  version: string;
  state: BuildState;
  reason: string | null;
  submitter: string;
  /** submission_info.json's submitter_role (absent in indexes written before it: read it with roleOf()) */
  submitter_role?: SubmitterRole;
  submitted_at: string;
  updated_at: string;
  /** git commit of a pushed submission, null for an upload */
  commit: string | null;
  stable: boolean;
  /** tags users put on this submission (meta/tags.json), sorted */
  tags: string[];
  /** votes on this submission (meta/votes.json) */
  votes: number;
  /** user reports with status failed (meta/reports/*.json, kind user) */
  failed_reports: number;
  /** the runtime `dependencies` ranges of the submission (submission_info.json), as declared;
   *  absent in indexes written before the field (then `builds` is unknown too: reindex fills both) */
  dependencies?: Record<string, string>;
  /** per arch, each good build that has its binaries: measurements and the digests of
   *  files.tar.gz and manifest.json (indexed-builds.ts); absent when there is none */
  builds?: IndexedBuilds;
  /** the rebuild check's verdict (status.json `reproducible`): absent while unchecked */
  reproducible?: boolean;
  /** a rebuild check is queued or running (its durable job: start-up queues it again) */
  rebuild_pending?: true;
}

/** The entry's rebuild facts from its status.json (rebuildFacts), the one derivation both the
 *  status update and reindex use. */
export function rebuildFacts(status: SubmissionStatus): Pick<PortIndexEntry, 'reproducible' | 'rebuild_pending'> {
  const pending = Object.values(status.builds ?? {}).some((b) => b?.rebuild?.state === 'queued' || b?.rebuild?.state === 'running');
  return {
    ...(typeof status.reproducible === 'boolean' ? { reproducible: status.reproducible } : {}),
    ...(pending ? { rebuild_pending: true as const } : {}),
  };
}

/** An entry's derived tail (builds, reproducible, rebuild_pending) set in the one key order
 *  reindex writes, so that fsck's comparison of the JSON holds. */
export function setDerivedTail(e: PortIndexEntry, builds: IndexedBuilds | undefined, status: SubmissionStatus): void {
  delete e.builds;
  delete e.reproducible;
  delete e.rebuild_pending;
  if (builds) e.builds = builds;
  Object.assign(e, rebuildFacts(status));
}

export interface PortIndex {
  name: string;
  /** the package's face: description, category and tags of its newest (highest pkgid) submission
   *  made by a maintainer or an admin; '', null and [] when there is none (takeFace) */
  description: string;
  category: string | null;
  tags: string[];
  submissions: PortIndexEntry[];
}

/**
 * May query URLs (`/port/<name>`, `/port/<name>/<version>`, dependency resolution) serve this
 * entry, once it is good? Only when it was made by a maintainer or an admin (as recorded at
 * submission time), or flagged stable (CONTRACT.md, "HTTP"). The package list's latest version
 * (port-summary.ts) counts the same entries.
 */
export const queryEligible = (e: PortIndexEntry): boolean => e.stable || speaksForPackage(e);

/**
 * Makes a submission the package's face (description, category, tags) when it spoke for the
 * package and no newer (higher pkgid) entry of the index did: a plain user's submission never
 * changes what the package shows. Called with the submissions before this one's entry is added,
 * by the incremental writer (create-submission.ts) and by the tree's derivation
 * (derive-indexes.ts) alike, so that both give the same index.
 * A stable flag does not count here, although it makes a user's submission servable by
 * /port/<name>: the face follows the stricter rule (who submitted), which never changes after
 * the fact, so flags and unflags never have to rewrite it.
 */
export function takeFace(ix: PortIndex, pkgid: number, role: SubmitterRole, face: Pick<PortIndex, 'description' | 'category' | 'tags'>): void {
  if (role === 'user') return;
  if (ix.submissions.some((e) => e.pkgid > pkgid && speaksForPackage(e))) return;
  ix.description = face.description;
  ix.category = face.category;
  ix.tags = face.tags;
}

/** lowdb adapter: JSON in the store's tree. Reads the working tree; writes go through the store
 * transaction (replaced atomically, made durable by its commit, and handed to the commit as they
 * are: store.ts) — outside a transaction the adapter cannot write. */
class StoreJsonFile<T> implements Adapter<T> {
  constructor(private readonly file: string, private readonly tx: { tx: Tx; rel: string } | null) {}
  async read(): Promise<T | null> {
    return readJsonFileSync<T>(this.file);
  }
  async write(data: T): Promise<void> {
    if (!this.tx) throw new Error('a port index is written only inside a store transaction');
    await this.tx.tx.writeJson(this.tx.rel, data);
  }
}

export function emptyPortIndex(name: string): PortIndex {
  return { name, description: '', category: null, tags: [], submissions: [] };
}

/** Reads a package's index (null when the package has no submissions). */
export async function readPortIndex(store: Store, name: string): Promise<PortIndex | null> {
  const db = new Low<PortIndex | null>(new StoreJsonFile(store.abs(storePaths.portIndex(name)), null), null);
  await db.read();
  return db.data;
}

/** Changes a package's index inside a transaction. */
export async function updatePortIndex(tx: Tx, name: string, change: (ix: PortIndex) => void): Promise<PortIndex> {
  const rel = storePaths.portIndex(name);
  const db = new Low<PortIndex>(new StoreJsonFile(tx.abs(rel), { tx, rel }), emptyPortIndex(name));
  await db.read();
  db.data ??= emptyPortIndex(name);
  change(db.data);
  db.data.submissions.sort((a, b) => a.pkgid - b.pkgid);
  await db.write();
  return db.data;
}

/** Every package name that has an index file. */
export async function listIndexedPorts(store: Store): Promise<string[]> {
  const root = store.abs(storePaths.portIndexRoot);
  const names: string[] = [];
  let letters: string[] = [];
  try {
    letters = await readdir(root);
  } catch {
    return names;
  }
  for (const l of letters.sort()) {
    for (const f of (await readdir(path.join(root, l))).sort()) {
      if (f.endsWith('.json') && !f.startsWith('.')) names.push(f.slice(0, -5));
    }
  }
  return names;
}
