// The archives pre-receive made and checked of version-branch commits, kept with their manifest
// for post-receive to take: git's archive of a commit is deterministic (repos/archive-commit.ts), so
// the bytes checked in quarantine are the bytes the submission is made of, and a push archives and
// checks each commit once (~20 ms archiving and 3-8 ms checking of every push's post-receive).
// Bounded: a few entries, a total size, a short life; a miss archives and checks again. Each
// instance has its own (push-state.ts).
import type { Manifest } from '../domain/manifest.js';

/** A commit's archive and the manifest checkPortpkg returned for exactly these bytes. */
export interface CheckedArchive {
  tgz: Buffer;
  manifest: Manifest;
}

export interface PushedArchivesLimits {
  maxItems: number;
  maxBytes: number;
  ttlMs: number;
}

export class PushedArchives {
  private readonly items = new Map<string, CheckedArchive & { at: number }>();
  private bytes = 0;

  constructor(
    private readonly limits: PushedArchivesLimits = { maxItems: 16, maxBytes: 64 * 1024 * 1024, ttlMs: 10 * 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps the checked archive of `commit` in the repo `gitdir` (a newer one for the same key replaces it). */
  put(gitdir: string, commit: string, checked: CheckedArchive): void {
    const { tgz } = checked;
    this.drop(`${gitdir}\0${commit}`);
    this.expire();
    if (tgz.length > this.limits.maxBytes) return;
    while (this.items.size >= this.limits.maxItems || this.bytes + tgz.length > this.limits.maxBytes) {
      const oldest = this.items.keys().next().value as string;
      this.drop(oldest);
    }
    this.items.set(`${gitdir}\0${commit}`, { ...checked, at: this.now() });
    this.bytes += tgz.length;
  }

  /** The checked archive kept for `commit`, removed from the cache; undefined when none is kept or it is too old. */
  take(gitdir: string, commit: string): CheckedArchive | undefined {
    this.expire();
    const key = `${gitdir}\0${commit}`;
    const hit = this.items.get(key);
    this.drop(key);
    return hit && { tgz: hit.tgz, manifest: hit.manifest };
  }

  get size(): { items: number; bytes: number } {
    return { items: this.items.size, bytes: this.bytes };
  }

  private expire(): void {
    const before = this.now() - this.limits.ttlMs;
    for (const [key, v] of this.items) if (v.at < before) this.drop(key);
  }

  private drop(key: string): void {
    const v = this.items.get(key);
    if (!v) return;
    this.items.delete(key);
    this.bytes -= v.tgz.length;
  }
}
