// Keeps a read replica's store a clone of the primary's BASE/store.git: fetched and reset to its
// main on an interval and on request, one sync at a time; copies the maintainers of packages whose
// index changed from the primary's API, since query URLs (/port/<name>) depend on them.
// Notifications are not authenticated (they only trigger a fetch of public data) but rate-limited:
// at most one fetch per NOTIFY_MIN_GAP_MS however many arrive; the rest share the next one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PackageOwnersStore } from '../accounts/package-owners.js';
import { runGit } from '../lib/git.js';
import type { Logger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';

export interface ReplicaSyncOptions {
  upstream: string;
  /** the replica's store folder (a clone) */
  storeDir: string;
  owners: PackageOwnersStore;
  intervalMs: number;
  log: Logger;
}

const git = (dir: string, args: string[]) => runGit(['-C', dir, ...args], { encoding: 'text' });
const INDEX_FILE = /^index\/ports\/[^/]+\/([^/]+)\.json$/;
const NOTIFY_MIN_GAP_MS = 1000;

export class ReplicaSync {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  /** the sync a notification within NOTIFY_MIN_GAP_MS of the last fetch waits for */
  private pending: Promise<void> | null = null;
  private lastFetchAt = 0;
  /** fetches made since start (GET /internal/replica/status) */
  fetches = 0;
  /** the primary's store commit this replica serves, and when it last synced */
  head = '';
  syncedAt = 0;

  constructor(private readonly o: ReplicaSyncOptions) {}

  /** Clones the store when there is none yet (before the store is opened). */
  async ensureClone(): Promise<void> {
    if (existsSync(path.join(this.o.storeDir, '.git'))) return;
    const url = `${this.o.upstream.replace(/\/+$/, '')}/store.git`;
    try {
      await runGit(['clone', '--quiet', '--branch', 'main', url, this.o.storeDir]);
    } catch (err) {
      throw new MorphuxError('infrastructure', `cannot clone ${url}: ${(err as Error).message.split('\n')[0]}`);
    }
    this.head = (await git(this.o.storeDir, ['rev-parse', 'HEAD'])).stdout.trim();
    await this.copyOwners(await this.allPorts());
    this.syncedAt = Date.now();
  }

  start(): void {
    this.timer = setInterval(() => void this.sync().catch(() => {}), this.o.intervalMs);
    this.timer.unref();
  }

  /** Fetches now (or right after the sync under way); resolves when the store is up to date. */
  sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce().catch((err: unknown) => this.o.log.warn({ err }, 'replica fetch failed; serving the last copy'));
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** A notification from the primary: a sync now, or, within NOTIFY_MIN_GAP_MS of the last fetch,
   *  one shared sync when that time is up; resolves when the store is up to date. */
  notify(): Promise<void> {
    const wait = this.lastFetchAt + NOTIFY_MIN_GAP_MS - Date.now();
    if (wait <= 0 && !this.pending) return this.sync();
    this.pending ??= new Promise<void>((r) => setTimeout(r, Math.max(wait, 0)).unref()).then(() => {
      this.pending = null;
      return this.sync();
    });
    return this.pending;
  }

  private async syncOnce(): Promise<void> {
    const dir = this.o.storeDir;
    this.lastFetchAt = Date.now();
    this.fetches += 1;
    await git(dir, ['fetch', '--quiet', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
    const next = (await git(dir, ['rev-parse', 'refs/remotes/origin/main'])).stdout.trim();
    const prev = this.head || (await git(dir, ['rev-parse', 'HEAD'])).stdout.trim();
    if (next !== prev) {
      await git(dir, ['reset', '--quiet', '--hard', next]);
      const changed = (await git(dir, ['diff', '--name-only', prev, next, '--', 'index/ports'])).stdout.split('\n');
      await this.copyOwners(changed.map((f) => INDEX_FILE.exec(f)?.[1]).filter((n): n is string => !!n));
      this.o.log.info({ from: prev, to: next }, 'replica store updated');
    }
    this.head = next;
    this.syncedAt = Date.now();
  }

  private async allPorts(): Promise<string[]> {
    const files = (await git(this.o.storeDir, ['ls-files', 'index/ports'])).stdout.split('\n');
    return files.map((f) => INDEX_FILE.exec(f)?.[1]).filter((n): n is string => !!n);
  }

  private async copyOwners(names: string[]): Promise<void> {
    for (const name of names) {
      try {
        const res = await fetch(`${this.o.upstream.replace(/\/+$/, '')}/api/v1/ports/${encodeURIComponent(name)}`);
        if (!res.ok) continue;
        const body = (await res.json()) as { maintainers?: string[] };
        const had = await this.o.owners.get(name);
        await this.o.owners.put({ name, maintainers: body.maintainers ?? [], created_at: had?.created_at ?? new Date().toISOString() });
      } catch (err) {
        this.o.log.warn({ err, package: name }, 'cannot copy the maintainers of a package');
      }
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
