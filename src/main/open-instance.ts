// The composition root's first piece: one Morphux instance wired from its configuration: the
// data layout, the store, accounts, sessions, the throttle, the build queue and the store-backed
// build host, live logs, the publisher and (when asked) the embedded build worker. `morphux serve`,
// the operator commands and the tests open one; nothing else constructs these.
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
import { eligibleCandidates, eligibleEntries } from '../service/eligible-candidates.js';
import { newPushState } from '../service/push-state.js';
import { Throttle } from '../service/throttle.js';
import { LocalBuildHost } from '../service/builds/local-build-host.js';
import type { AppContext } from '../service/app-context.js';

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
    eligible: async (name) => new Set((await eligibleEntries({ catalog }, name)).map((e) => e.pkgid)),
  });
  const sessions = new SessionStore(path.join(layout.state, 'sessions'));
  const throttle = new Throttle(config.throttle);
  // the one store-backed build host: the embedded worker's and the remote workers' API's
  const builds = new LocalBuildHost({
    store, liveLogs, candidates: (name) => eligibleCandidates({ catalog, store }, name),
    arches: config.builder.arches, maxAttempts: config.builder.max_attempts, log: log.child({ part: 'builds' }),
    // a good build's provenance: signed with the publishing key when there is one (docs/provenance.md)
    provenance: { origin: () => ctx.publicUrl, key: async () => ((await publisher.keys.exists()) ? publisher.keys.signingKey() : null) },
    // a good build's rebuild check (builder.rebuild): a job on the same queue
    rebuild: config.builder.rebuild, enqueue: (job) => queue.enqueue(job), reposRoot: layout.repos,
  });
  const ctx: AppContext = {
    builds,
    config, log, layout, store, catalog, committed, users, owners, sessions, throttle, queue, liveLogs, worker: null, publisher, publicUrl: config.publicUrl,
    pushes: newPushState(),
    close: async () => {
      await ctx.worker?.close();
      await publisher.close();
      await queue.close();
      committed.close();
      await store.close();
    },
  };
  if (opts.runner) {
    ctx.worker = new BuildWorker({ queue, runner: opts.runner, config, log: log.child({ part: 'worker' }), host: builds, tmpDir: layout.tmp });
  }
  return ctx;
}
