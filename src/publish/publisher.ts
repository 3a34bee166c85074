// The publisher: builds the artifacts the store's HEAD lacks, then pushes each configured mirror
// (push-mirror.ts). One round at a time across processes (a lock in DATA/publish), so the server's
// background loop and an operator's `morphux mirror push` never interleave. start() runs rounds
// every interval_seconds and soon after each store commit; status() says what is pending and failed.
import { mkdir, readFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import type { Config } from '../config/config-schema.js';
import type { Logger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';
import { atomicWrite } from '../lib/atomic-write.js';
import { ArtifactCatalog } from './artifact-catalog.js';
import { readMirrorState, type Failure } from './mirror-state.js';
import { PublishKeys } from './publish-keys.js';
import { publishPaths, remoteFilesOf, type PublishedFile, type PublishPaths } from './publish-paths.js';
import { pushMirror, type PushMirrorResult } from './push-mirror.js';

export interface PublisherOptions {
  settings: Config['publish'];
  /** DATA/publish */
  root: string;
  /** DATA/store */
  storeRoot: string;
  log: Logger;
  eligible?: (name: string) => Promise<Set<number>>;
}

export interface PublishRound {
  built: number;
  mirrors: PushMirrorResult[];
}

export interface MirrorStatus {
  mirror: string;
  url: string;
  confirmed: number;
  pending: string[];
  /** good submissions whose artifacts are not built yet (pending on every mirror) */
  unbuilt: number;
  failed: Array<{ path: string } & Failure>;
  index: { sequence: number; uploaded_at: string; valid_until: string; artifacts: number } | null;
}

export class Publisher {
  readonly paths: PublishPaths;
  readonly keys: PublishKeys;
  readonly catalog: ArtifactCatalog;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private closed = false;

  constructor(private readonly o: PublisherOptions) {
    this.paths = publishPaths(o.root);
    this.keys = new PublishKeys(this.paths);
    this.catalog = new ArtifactCatalog(this.paths, o.storeRoot);
  }

  /** One round; `wait` blocks on another process's round, else a held lock skips it (null). */
  async runOnce(opts: { force?: boolean; wait?: boolean } = {}): Promise<PublishRound | null> {
    if (!(await this.keys.exists())) throw new MorphuxError('not_found', 'no publishing keys: run `morphux keys init`');
    await mkdir(this.paths.mirrors, { recursive: true });
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.paths.lockTarget, {
        realpath: false, stale: 60_000, update: 10_000,
        retries: opts.wait ? { retries: 600, minTimeout: 200, maxTimeout: 1000 } : 0,
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOCKED' && !opts.wait) return null;
      throw e;
    }
    try {
      const built = await this.catalog.refresh(this.keys, this.o.settings.compression, this.o.log);
      const entries = await this.catalog.entries();
      const rotations = await this.keys.rotations();
      const mirrors: PushMirrorResult[] = [];
      for (const m of this.o.settings.mirrors) {
        mirrors.push(await pushMirror({
          mirror: m, settings: this.o.settings, paths: this.paths, entries, rotations, keys: this.keys,
          eligible: this.o.eligible, nextSequence: () => this.nextSequence(), force: opts.force ?? false,
          log: this.o.log.child({ mirror: m.name }),
        }));
      }
      return { built: built.length, mirrors };
    } finally {
      await release();
    }
  }

  /** The index sequence: one counter for the repository, only ever moving forward, durable before use. */
  private async nextSequence(): Promise<number> {
    const cur = Number((await readFile(this.paths.sequence, 'utf8').catch(() => '0')).trim()) || 0;
    const next = cur + 1;
    await atomicWrite(this.paths.sequence, `${next}\n`);
    return next;
  }

  async status(): Promise<MirrorStatus[]> {
    const entries: PublishedFile[] = [...(await this.keys.rotations()), ...(await this.catalog.entries())];
    const unbuilt = (await this.catalog.unbuilt()).length;
    const out: MirrorStatus[] = [];
    for (const m of this.o.settings.mirrors) {
      const s = await readMirrorState(this.paths.mirrorState(m.name), m.name);
      out.push({
        mirror: m.name,
        url: `${m.url.replace(/\/+$/, '')}${m.dir === '/' ? '' : m.dir}`,
        // an item is confirmed when all its files are (an artifact with its manifest); pending names each file
        confirmed: entries.filter((e) => remoteFilesOf(e).every((p) => s.uploaded[p])).length,
        pending: entries.flatMap((e) => remoteFilesOf(e).filter((p) => !s.uploaded[p])),
        unbuilt,
        failed: Object.entries(s.failures).map(([p, f]) => ({ path: p, ...f })),
        index: s.index && { sequence: s.index.sequence, uploaded_at: s.index.uploaded_at, valid_until: s.index.valid_until, artifacts: s.index.artifacts },
      });
    }
    return out;
  }

  /** Background rounds: every interval_seconds, and a second after a store commit. */
  start(onCommit?: (listener: () => void) => void): void {
    if (this.o.settings.mirrors.length === 0) return;
    const round = () => {
      if (this.closed || this.running) return;
      this.running = this.runOnce()
        .catch((e) => this.o.log.warn({ err: (e as Error).message }, 'publish round failed'))
        .finally(() => { this.running = null; });
    };
    this.timer = setInterval(round, this.o.settings.interval_seconds * 1000);
    this.timer.unref();
    let soon: NodeJS.Timeout | null = null;
    onCommit?.(() => {
      if (soon || this.closed) return;
      soon = setTimeout(() => { soon = null; round(); }, 1000);
      soon.unref();
    });
    setTimeout(round, 0).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
