// Wires one Morphux instance from its configuration: the data layout, the store, accounts,
// the build queue, live logs and (when asked) the embedded build worker. Both `morphux serve`
// and the operator commands open one; the tests open one per server.
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PackageOwnersStore } from '../accounts/package-owners.js';
import { SessionStore } from '../accounts/session-store.js';
import { UserStore } from '../accounts/user-store.js';
import { EmbeddedQueue, type BuildQueue } from '../builder/build-queue.js';
import { RedisQueue } from '../builder/redis-queue.js';
import { BuildWorker } from '../builder/build-worker.js';
import { LiveLogs } from '../builder/live-logs.js';
import type { VmRunner } from '../builder/vm/vm-types.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../lib/logger.js';
import { Publisher } from '../publish/publisher.js';
import { CommittedTree } from '../store/tree/committed-tree.js';
import { PortCatalog } from '../store/catalog/port-catalog.js';
import { Store } from '../store/tree/store.js';
import { dataLayout, type DataLayout } from '../config/data-layout.js';
import { eligibleCandidates, eligibleEntries } from './eligible-candidates.js';
import { Throttle } from './throttle.js';

export interface AppContext {
  config: LoadedConfig;
  log: Logger;
  layout: DataLayout;
  store: Store;
  /** every package's summary in memory, and its index on demand, for reads */
  catalog: PortCatalog;
  /** the store as of its last commit: what reads are served from */
  committed: CommittedTree;
  users: UserStore;
  owners: PackageOwnersStore;
  /** the website's sessions, kept on the server */
  sessions: SessionStore;
  /** token buckets per user and address for sign-ins, failed authentications and writes */
  throttle: Throttle;
  queue: BuildQueue;
  liveLogs: LiveLogs;
  worker: BuildWorker | null;
  /** pushes signed, encrypted artifacts to the configured FTP mirrors (src/publish) */
  publisher: Publisher;
  /** the base URL users reach this instance at (known once the server listens) */
  publicUrl: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** the VM runner for an embedded worker; no worker when absent */
  runner?: VmRunner;
  /** empty DATA/tmp at open: only the server, at start (Store.open) */
  sweepTmp?: boolean;
}

export async function openContext(config: LoadedConfig, log: Logger, opts: OpenOptions = {}): Promise<AppContext> {
  const layout = dataLayout(config.data);
  for (const dir of [layout.repos, layout.users, layout.packages, layout.state, layout.tmp]) await mkdir(dir, { recursive: true });
  const store = new Store({ root: layout.store, stateDir: layout.state, tmpDir: layout.tmp, log: log.child({ part: 'store' }), groupMax: config.store.group_commit_max });
  await store.open({ sweepTmp: opts.sweepTmp });
  // the store's git dir, reachable as DATA/store.git: what the git transport serves as BASE/store.git
  const storeGitLink = path.join(layout.data, 'store.git');
  if (!existsSync(storeGitLink)) await symlink(path.join('store', '.git'), storeGitLink).catch(() => {});
  const committed = new CommittedTree(path.join(layout.store, '.git'));
  const catalog = new PortCatalog(store, committed);
  const users = new UserStore(layout.users);
  const owners = new PackageOwnersStore(layout.packages);
  const queue: BuildQueue = config.queue.kind === 'redis'
    ? new RedisQueue({ url: config.queue.url!, arches: config.builder.arches, log: log.child({ part: 'queue' }), lockMs: config.queue.lock_seconds * 1000, stalledCheckMs: config.queue.stalled_check_seconds * 1000 })
    : new EmbeddedQueue();
  const liveLogs = new LiveLogs(config.builder.log_max_bytes);
  const publisher = new Publisher({
    settings: config.publish, root: layout.publish, storeRoot: layout.store, log: log.child({ part: 'publish' }),
    eligible: async (name) => new Set((await eligibleEntries({ catalog, owners, users }, name)).map((e) => e.pkgid)),
  });
  const sessions = new SessionStore(path.join(layout.state, 'sessions'));
  const throttle = new Throttle(config.throttle);
  const ctx: AppContext = {
    config, log, layout, store, catalog, committed, users, owners, sessions, throttle, queue, liveLogs, worker: null, publisher, publicUrl: config.publicUrl,
    close: async () => {
      await ctx.worker?.close();
      await publisher.close();
      await queue.close();
      committed.close();
      await store.close();
    },
  };
  if (opts.runner) {
    ctx.worker = new BuildWorker({
      store, queue, runner: opts.runner, liveLogs, config, log: log.child({ part: 'worker' }),
      candidates: (name) => eligibleCandidates(ctx, name),
    });
  }
  return ctx;
}
