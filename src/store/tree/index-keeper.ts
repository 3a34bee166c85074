// git's index of the store, for the people who look at DATA/store with git: `git status` there is
// clean when the tree equals HEAD (the store is a git repo, CONTRACT.md). The store's own commits
// use no index (store-commit.ts: a commit costs what it changes), so this keeps one for them, off
// the write path: once the store has been quiet a moment (1 s) after a commit, the paths changed
// since the commit the index was last brought to are given to `git update-index --index-info`
// (from `git diff-tree` of the two commits: a cost that follows the change, plus git reading and
// writing the index file); with no such commit, the whole tree is read (`git read-tree -m`, which
// keeps the stat data of the entries that did not change). Entries so set carry no stat data: a
// `git status` compares those files by content (and, when it may write, records their stat data).
//
// One process keeps the index: the server (start-server.ts). Commits made by other processes are
// picked up after the server's next commit. A sync that takes long (a million submissions: git
// reads an index of millions of entries) waits for ten times as long a quiet, so it takes at most
// a tenth of the time.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../lib/logger.js';
import { atomicWrite } from '../../lib/atomic-write.js';
import { readHead } from './store-commit.js';
import { storeGit } from './store-git.js';

const QUIET_MS = 1000;
const MAX_BEHIND_MS = 60_000;
/** A compact index (paths prefix-compressed), and split: a sync writes the entries it changed, not
 *  the whole index (hundreds of MB at a million submissions). */
const INDEX_CONFIG = ['-c', 'index.version=4', '-c', 'core.splitIndex=true'];
/** what the index was last brought to, beside git's own files */
const MARKER = 'morphux-index-head';

export class IndexKeeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private lastMs = 0;
  /** when the first commit the index does not hold yet was made */
  private behindSince: number | null = null;

  constructor(private readonly root: string, private readonly log: Logger) {}

  /** A commit was made: sync once the store has been quiet for a moment (longer after a sync that
   *  took long), and at the latest a minute after the first commit not yet in the index. */
  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const now = Date.now();
    this.behindSince ??= now;
    const due = Math.min(now + Math.max(QUIET_MS, this.lastMs * 10), this.behindSince + MAX_BEHIND_MS);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), Math.max(0, due - now));
    this.timer.unref();
  }

  /** Stops: a sync under way is finished first, none is started. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Bring the index to HEAD now (tests, and the timer). */
  async sync(): Promise<void> {
    const head = readHead(this.root).commit;
    if (!head) return;
    const gitDir = path.join(this.root, '.git');
    const marker = path.join(gitDir, MARKER);
    const was = (await readFile(marker, 'utf8').catch(() => '')).trim();
    const index = existsSync(path.join(gitDir, 'index'));
    if (was === head && index) return;
    const started = performance.now();
    const changed = was && index ? await this.changedSince(was, head) : null;
    if (changed) await storeGit(this.root, [...INDEX_CONFIG, 'update-index', '-z', '--index-info'], {}, changed);
    else await storeGit(this.root, [...INDEX_CONFIG, 'read-tree', ...(index ? ['-m'] : []), head]);
    await atomicWrite(marker, `${head}\n`);
    this.lastMs = performance.now() - started;
    this.log.debug({ head, paths: changed === null ? 'all' : changed.split('\0').length - 1, ms: Math.round(this.lastMs) }, 'store index in step with HEAD');
  }

  private run(): void {
    this.timer = null;
    this.behindSince = null;
    this.running = this.sync()
      .catch((err) => this.log.warn({ err }, 'store index not brought to HEAD; the next commit tries again'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** `--index-info -z` lines for every path that differs between two commits; null when `from`
   *  cannot be compared (not a commit here). */
  private async changedSince(from: string, to: string): Promise<string | null> {
    const diff = await storeGit(this.root, ['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', from, to]).catch(() => null);
    if (diff === null) return null;
    // each entry: ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0"
    const fields = diff.split('\0');
    let out = '';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [, newMode, , newOid, status] = fields[i].slice(1).split(' ');
      const file = fields[i + 1];
      out += status === 'D' ? `0 ${'0'.repeat(newOid.length)}\t${file}\0` : `${newMode} ${newOid}\t${file}\0`;
    }
    return out;
  }
}
