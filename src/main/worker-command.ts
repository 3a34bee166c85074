// `morphux worker`: a build worker on its own machine. Takes jobs for one arch from Redis
// (RedisQueue), runs each in a VM (QemuRunner) and talks to the server only through its internal
// worker API (RemoteBuildHost), so the server stays the single writer of the store.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BuildWorker } from '../builder/build-worker.js';
import { RedisQueue } from '../builder/redis-queue.js';
import { RemoteBuildHost } from '../builder/remote-build-host.js';
import { ARCHES, type Arch } from '../domain/arch.js';
import type { LoadedConfig } from '../config/load-config.js';
import { createLogger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';
import { configFrom, stopOnSignals } from './cli-support.js';
import { runnerFor } from './morphux-commands.js';

export interface WorkerOpts {
  data?: string;
  config?: string;
  server: string;
  token: string;
  arch: string;
  concurrency?: string;
  redis?: string;
}

export async function workerCommand(opts: WorkerOpts): Promise<void> {
  const base = configFrom(opts);
  if (!(ARCHES as readonly string[]).includes(opts.arch)) throw new MorphuxError('bad_request', `unknown arch ${opts.arch}: one of ${ARCHES.join(', ')}`);
  const concurrency = opts.concurrency === undefined ? base.builder.concurrency : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new MorphuxError('bad_request', `--concurrency must be 1 to 64, not ${opts.concurrency}`);
  const url = opts.redis ?? base.queue.url;
  if (!url) throw new MorphuxError('config_invalid', 'a worker needs Redis: --redis URL or queue.url in the config');
  let server: URL;
  try {
    server = new URL(opts.server);
  } catch {
    throw new MorphuxError('bad_request', `--server must be a URL, not ${opts.server}`);
  }
  const arch = opts.arch as Arch;
  const config: LoadedConfig = { ...base, builder: { ...base.builder, concurrency, arches: [arch] } };
  const log = createLogger(config.log.level).child({ part: 'worker', arch });
  const tmpDir = path.join(config.data, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const queue = new RedisQueue({ url, arches: [arch], log: log.child({ part: 'queue' }), lockMs: config.queue.lock_seconds * 1000, stalledCheckMs: config.queue.stalled_check_seconds * 1000 });
  const host = new RemoteBuildHost({ server: server.toString(), token: opts.token, log });
  const worker = new BuildWorker({ queue, runner: runnerFor(config, log), config, log, host, tmpDir });
  worker.start();
  process.stdout.write(`morphux worker: ${arch}, ${concurrency} at once, server ${server.origin}\n`);
  stopOnSignals(() => worker.close().then(() => queue.close()), log);
}
