// The instance every use case and door is handed: its configuration, logger, data layout, store,
// catalog, accounts, sessions, throttle, build queue and host, live logs, embedded worker,
// publisher and what its pushes share between their hooks. Only the composition root
// (src/main/open-instance.ts) makes one.
import type { PackageOwnersStore } from '../accounts/package-owners.js';
import type { SessionStore } from '../accounts/session-store.js';
import type { UserStore } from '../accounts/user-store.js';
import type { BuildQueue } from '../builder/build-queue.js';
import type { BuildWorker } from '../builder/build-worker.js';
import type { LiveLogs } from '../builder/live-logs.js';
import type { DataLayout } from '../config/data-layout.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../lib/logger.js';
import type { Publisher } from '../publish/publisher.js';
import type { PortCatalog } from '../store/catalog/port-catalog.js';
import type { CommittedTree } from '../store/tree/committed-tree.js';
import type { Store } from '../store/tree/store.js';
import type { LocalBuildHost } from './builds/local-build-host.js';
import type { Throttle } from './throttle.js';
import type { PushState } from './push-state.js';

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
  /** the store-backed build host every build worker, embedded or remote, reports to */
  builds: LocalBuildHost;
  worker: BuildWorker | null;
  /** pushes signed, encrypted artifacts to the configured FTP mirrors (src/publish) */
  publisher: Publisher;
  /** what a push's pre-receive hands its post-receive, and the one-at-a-time submit of commits (handle-push.ts) */
  pushes: PushState;
  /** the base URL users reach this instance at (known once the server listens) */
  publicUrl: string;
  close(): Promise<void>;
}

