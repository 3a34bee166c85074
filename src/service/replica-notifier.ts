// On the primary: tells each configured replica (replica.notify) that the store moved, so it
// fetches now instead of at its next interval. Commits are coalesced (one round of POSTs at a
// time, one more after it when commits came meanwhile); the commit never waits; a replica that
// does not answer is logged and told again on the next commit (its interval fetch covers the gap).
import type { Logger } from '../lib/logger.js';

export interface ReplicaNotifierOptions {
  /** replicas' base URLs */
  urls: readonly string[];
  log: Logger;
  /** wait this long after a commit, so a burst of commits costs one round (default 100 ms) */
  debounceMs?: number;
  /** give up on one replica's answer after this long (default 10 s) */
  timeoutMs?: number;
}

export class ReplicaNotifier {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** replicas whose last notification failed (logged once until they answer again) */
  private readonly failing = new Set<string>();

  constructor(private readonly o: ReplicaNotifierOptions) {}

  /** Registers with the store's commit listeners (Store.onCommit); nothing to do without replicas. */
  start(onCommit: (listener: (paths: string[]) => void) => void): void {
    if (this.o.urls.length === 0) return;
    onCommit(() => this.schedule());
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.round().finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    }, this.o.debounceMs ?? 100);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    await Promise.all(this.o.urls.map(async (base) => {
      const url = `${base.replace(/\/+$/, '')}/internal/replica/notify`;
      try {
        const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        if (this.failing.delete(base)) this.o.log.info({ replica: base }, 'replica notified again');
      } catch (err) {
        const log = this.failing.has(base) ? this.o.log.debug.bind(this.o.log) : this.o.log.warn.bind(this.o.log);
        this.failing.add(base);
        log({ replica: base, err: (err as Error).message }, 'replica not notified; told again on the next commit');
      }
    }));
  }

  /** Stops telling; a round under way finishes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
