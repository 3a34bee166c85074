// Wires one Morphux instance from its configuration: the data layout, the store, accounts,
// the build queue, live logs and (when asked) the embedded build worker. Both `morphux serve`
// and the operator commands open one; the tests open one per server.
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PackageOwnersStore } from '../accounts/package-owners.js';
import { UserStore } from '../accounts/user-store.js';
import { EmbeddedQueue, type BuildQueue } from '../builder/build-queue.js';
import { BuildWorker } from '../builder/build-worker.js';
import { LiveLogs } from '../builder/live-logs.js';
import type { VmRunner } from '../builder/vm/vm-types.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../config/logger.js';
import { Store } from '../store/store.js';
import { dataLayout, type DataLayout } from './data-layout.js';
import { eligibleCandidates } from './eligible-candidates.js';

export interface AppContext {
  config: LoadedConfig;
  log: Logger;
  layout: DataLayout;
  store: Store;
  users: UserStore;
  owners: PackageOwnersStore;
  queue: BuildQueue;
  liveLogs: LiveLogs;
  worker: BuildWorker | null;
  /** the base URL users reach this instance at (known once the server listens) */
  publicUrl: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** the VM runner for an embedded worker; no worker when absent */
  runner?: VmRunner;
}

export async function openContext(config: LoadedConfig, log: Logger, opts: OpenOptions = {}): Promise<AppContext> {
  const layout = dataLayout(config.data);
  for (const dir of [layout.repos, layout.users, layout.packages, layout.state, layout.tmp]) await mkdir(dir, { recursive: true });
  const store = new Store({ root: layout.store, stateDir: layout.state, tmpDir: layout.tmp, log: log.child({ part: 'store' }) });
  await store.open();
  // the store's git dir, reachable as DATA/store.git: what the git transport serves as BASE/store.git
  const storeGitLink = path.join(layout.data, 'store.git');
  if (!existsSync(storeGitLink)) await symlink(path.join('store', '.git'), storeGitLink).catch(() => {});
  const users = new UserStore(layout.users);
  const owners = new PackageOwnersStore(layout.packages);
  const queue = new EmbeddedQueue();
  const liveLogs = new LiveLogs(config.builder.log_max_bytes);
  const ctx: AppContext = {
    config, log, layout, store, users, owners, queue, liveLogs, worker: null, publicUrl: config.publicUrl,
    close: async () => {
      await ctx.worker?.close();
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
