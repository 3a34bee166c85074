// Opens a read replica: its store cloned from the primary (first start) and a read-only context
// over that clone, with the ReplicaSync that keeps it up to date.
import { dataLayout } from '../config/data-layout.js';
import { type AppContext } from '../service/app-context.js';
import { openContext } from './open-instance.js';
import { PackageOwnersStore } from '../accounts/package-owners.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';
import { ReplicaSync } from '../service/replica-sync.js';

export async function openReplica(base: LoadedConfig, log: Logger): Promise<{ ctx: AppContext; sync: ReplicaSync }> {
  const upstream = base.replica.upstream;
  if (!upstream) throw new MorphuxError('config_invalid', 'a replica needs its primary: --upstream URL or replica.upstream');
  // a replica builds nothing and queues nothing
  const config: LoadedConfig = { ...base, queue: { ...base.queue, kind: 'embedded', url: null }, builder: { ...base.builder, embedded_worker: false } };
  const layout = dataLayout(config.data);
  const sync = new ReplicaSync({
    upstream, storeDir: layout.store, owners: new PackageOwnersStore(layout.packages),
    intervalMs: config.replica.interval_seconds * 1000, log: log.child({ part: 'replica' }),
  });
  await sync.ensureClone();
  const ctx = await openContext(config, log);
  return { ctx, sync };
}
