// Recovery when the store is opened (and when a change fails after writing): what a crash or a
// failed change left in the working tree and in git's folder goes, back to the last commit. Runs
// under the store lock, so no git process of ours is running. What to put back comes from the
// journal of touched paths (store-journal.ts): the work is proportional to the changes that were
// under way, not to the store. `uncommittedChanges` is the whole comparison (fsck, tests).
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../lib/logger.js';
import { atomicWrite, isTempOf } from '../../lib/atomic-write.js';
import { runGit } from '../../lib/git.js';
import { readHead } from './store-commit.js';
import { COMMITTER } from './store-git.js';
import { journalFile, readJournal } from './store-journal.js';

const mtimeOf = async (p: string) => (await stat(p).catch(() => null))?.mtimeMs ?? Infinity;

/** git in the store with a private index file (the store keeps none of its own) and every
 *  pathspec taken literally. */
async function gitWithIndex(root: string, index: string, args: string[], input?: Buffer): Promise<Buffer> {
  const env = { ...COMMITTER, GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: '1' };
  // the output follows the tree (a whole-tree status): up to 1 GiB
  return (await runGit(args, { cwd: root, env, input, maxBuffer: 1024 ** 3 })).stdout;
}

const scratchIndex = (root: string, what: string) => path.join(root, '.git', `morphux-${what}-index-${process.pid}-${Math.random().toString(36).slice(2)}`);

/** The journaled paths without those inside another journaled path (a folder put back whole). */
function outermost(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(`${q}/`))) out.push(p);
  return out;
}

/** Removes the now empty folders above rel, up to the store's root. */
function pruneEmptyParents(root: string, rel: string): void {
  for (let dir = path.posix.dirname(rel); dir !== '.' && dir !== ''; dir = path.posix.dirname(dir)) {
    try {
      rmdirSync(path.join(root, dir));
    } catch {
      return; // not empty, or gone
    }
  }
}

/** The given paths of the working tree made exactly what HEAD holds there (absent when HEAD has
 *  nothing there): each is removed, then HEAD's files at them are checked out through a scratch
 *  index holding only those. */
export async function restoreFromHead(root: string, rels: string[]): Promise<void> {
  const paths = outermost(rels);
  for (const rel of paths) {
    const abs = path.resolve(root, rel);
    if (!abs.startsWith(root + path.sep) || abs.startsWith(path.join(root, '.git') + path.sep) || rel === '.git') continue;
    await rm(abs, { recursive: true, force: true });
    // and the temp file of an atomic write of it killed before its rename
    const base = path.basename(abs);
    for (const name of await readdir(path.dirname(abs)).catch(() => [] as string[])) {
      if (isTempOf(name, base)) await rm(path.join(path.dirname(abs), name), { force: true });
    }
    pruneEmptyParents(root, rel);
  }
  if (!readHead(root).commit) return; // nothing committed yet: nothing to put back
  const index = scratchIndex(root, 'restore');
  try {
    const entries: Buffer[] = [];
    for (let i = 0; i < paths.length; i += 256) {
      entries.push(await gitWithIndex(root, index, ['ls-tree', '-r', '-z', '--full-tree', 'HEAD', '--', ...paths.slice(i, i + 256)]));
    }
    const listed = Buffer.concat(entries);
    if (listed.length === 0) return;
    await gitWithIndex(root, index, ['update-index', '-z', '--index-info'], listed);
    await gitWithIndex(root, index, ['checkout-index', '-a', '-f']);
  } finally {
    await rm(index, { force: true });
  }
}

/** This boot of the machine (Linux's boot_id), '' where there is none. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

const bootFile = (root: string) => path.join(root, '.git', 'morphux-boot-id');

/**
 * Stale git locks and interrupted packs removed, then every path the journal names put back as
 * HEAD has it: whatever was written there and not committed was never acknowledged. The journal
 * is emptied only once that is done (a crash during recovery repeats it).
 *
 * The working tree's files are not fsynced (the commit is the durability point), so the journal
 * covers a process killed, not the machine: `checkTree` (the store's open()) also compares the
 * whole tree with HEAD, once, when the machine has booted since the store was last opened: a
 * committed file may not have reached the disk before a power cut.
 */
export async function rollBackToHead(root: string, log: Logger, opts: { checkTree?: boolean } = {}): Promise<void> {
  // git's own lock files, left by a git process killed mid-change (fast-import, update-ref)
  for (const rel of ['index.lock', 'HEAD.lock', 'packed-refs.lock', 'refs/heads/main.lock']) {
    const lock = path.join(root, '.git', rel);
    if (existsSync(lock)) {
      log.warn({ lock }, 'removing a stale git lock left by a crash');
      await rm(lock, { force: true });
    }
  }
  // packs fast-import or repack was writing when killed (git never reads these); only old ones:
  // the server's background repack runs outside the store lock
  const packs = path.join(root, '.git', 'objects', 'pack');
  const hourAgo = Date.now() - 3600_000;
  for (const f of await readdir(packs).catch(() => [] as string[])) {
    if (f.startsWith('tmp_') && (await mtimeOf(path.join(packs, f))) < hourAgo) await rm(path.join(packs, f), { force: true });
    // a running fast-import keeps its packs from repack; a killed one leaves the .keep behind
    if (f.endsWith('.keep') && (await mtimeOf(path.join(packs, f))) < hourAgo && readFileSync(path.join(packs, f), 'utf8').startsWith('fast-import')) {
      await rm(path.join(packs, f), { force: true });
    }
  }
  // the report fast-import writes when its stream is cut short (the process that fed it died)
  for (const f of await readdir(path.join(root, '.git')).catch(() => [] as string[])) {
    if (f.startsWith('fast_import_crash_')) await rm(path.join(root, '.git', f), { force: true });
  }
  const touched = readJournal(root);
  if (touched.length > 0) {
    log.warn({ paths: touched.length }, 'putting back store paths written but never committed');
    await restoreFromHead(root, touched);
  }
  const boot = bootId();
  if (opts.checkTree && readFileSync(bootFile(root), { encoding: 'utf8', flag: 'a+' }).trim() !== boot) {
    const t0 = performance.now();
    const differing = (await treeChanges(root)).map(([, p]) => p);
    if (differing.length > 0) {
      log.warn({ paths: differing.length }, 'the machine restarted: putting back store files that differ from the last commit');
      await restoreFromHead(root, differing);
    }
    log.info({ ms: Math.round(performance.now() - t0) }, 'store tree compared with its last commit after a restart of the machine');
    await atomicWrite(bootFile(root), `${boot}\n`);
  }
  await rm(journalFile(root), { force: true });
}

/** [status, path] of every path where the working tree differs from HEAD: every file compared
 *  with the commit through a scratch index made from HEAD (the cost is the whole tree's). */
async function treeChanges(root: string): Promise<Array<[string, string]>> {
  const index = scratchIndex(root, 'status');
  try {
    if (readHead(root).commit) await gitWithIndex(root, index, ['read-tree', 'HEAD']);
    const out = (await gitWithIndex(root, index, ['status', '--porcelain', '-z', '--untracked-files=all', '--no-renames'])).toString();
    return out.split('\0').filter((e) => e.length > 3).map((e) => [e.slice(0, 2).trim(), e.slice(3)]);
  } finally {
    await rm(index, { force: true });
  }
}

/** What differs between the working tree and HEAD, a "<status> <path>" line each ('' when
 *  nothing): the whole tree compared (fsck, tests), unlike rollBackToHead's journal. */
export async function uncommittedChanges(root: string): Promise<string> {
  return (await treeChanges(root)).map(([st, p]) => `${st} ${p}`).join('\n');
}

/** DATA/tmp emptied (`all`: the server at start) or only of what is over a day old (other openers:
 *  a running submission's or build's work may be there). */
export async function sweepTmp(tmpDir: string, all: boolean): Promise<void> {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    const p = path.join(tmpDir, name);
    if (all || (await mtimeOf(p)) < dayAgo) await rm(p, { recursive: true, force: true });
  }
}
