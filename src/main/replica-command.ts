// `morphux replica`: a read replica of a primary: clones BASE/store.git into DATA/store, keeps it
// fetched (replica.interval_seconds, and on POST /internal/replica/notify) and serves reads.
import { createLogger } from '../lib/logger.js';
import { startReplica } from '../server/start-replica.js';
import { openReplica } from './open-replica.js';
import { configFrom, stopOnSignals } from './cli-support.js';
import { fail } from '../lib/command-errors.js';

export interface ReplicaOpts {
  data?: string;
  config?: string;
  host?: string;
  port?: string;
  upstream?: string;
  interval?: string;
}

export async function replicaCommand(opts: ReplicaOpts): Promise<void> {
  const base = configFrom(opts);
  const interval = opts.interval === undefined ? base.replica.interval_seconds : Number(opts.interval);
  if (!Number.isInteger(interval) || interval < 1) fail(`error: --interval must be a whole number of seconds, not ${opts.interval}`);
  const config = { ...base, replica: { ...base.replica, upstream: opts.upstream ?? base.replica.upstream, interval_seconds: interval } };
  const log = createLogger(config.log.level);
  const { ctx, sync } = await openReplica(config, log);
  const running = await startReplica(ctx, sync, config.server);
  process.stdout.write(`morphux replica serving ${running.url} (upstream ${config.replica.upstream}, every ${interval} s)\n`);
  stopOnSignals(() => running.close(), log, 10_000);
}
