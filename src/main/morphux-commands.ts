// The bodies of the `morphux` commands: each reads the config once and wires only what it needs.
import { ensureImage } from '../builder/vm/base-image.js';
import { QemuRunner } from '../builder/vm/qemu-runner.js';
import { ARCHES, type Arch } from '../domain/arch.js';
import type { LoadedConfig } from '../config/load-config.js';
import { createLogger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';
import { startServer } from '../server/start-server.js';
import { openContext } from './open-instance.js';
import { fsckStore } from '../store/layout/fsck-store.js';
import { reindexStore } from '../store/layout/reindex-store.js';
import { configFrom, stopOnSignals } from './cli-support.js';

interface DataOpts {
  data?: string;
  config?: string;
}

export function runnerFor(config: LoadedConfig, log: ReturnType<typeof createLogger>): QemuRunner {
  return new QemuRunner({
    imageDir: config.imageDir,
    log: log.child({ part: 'vm' }),
    suite: config.builder.suite,
    accel: config.builder.accel,
    scratchDiskMib: config.builder.scratch_disk_mib,
    logMaxBytes: config.builder.log_max_bytes,
    snapshot: config.builder.snapshot,
  });
}

export async function serve(opts: DataOpts & { host?: string; port?: string; worker: boolean }): Promise<void> {
  const config = configFrom(opts);
  const log = createLogger(config.log.level);
  const runWorker = opts.worker && config.builder.embedded_worker;
  const ctx = await openContext(config, log, { runner: runWorker ? runnerFor(config, log) : undefined, sweepTmp: true });
  const running = await startServer(ctx);
  process.stdout.write(`morphux serving ${ctx.publicUrl} (data ${config.data})\n`);
  stopOnSignals(() => running.close(), log);
}

export async function storeFsck(opts: DataOpts & { json?: boolean }): Promise<void> {
  const config = configFrom(opts);
  const ctx = await openContext(config, createLogger('warn'));
  const report = await ctx.store.locked(() => fsckStore(ctx.store)); // at one point, no change under way
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    for (const p of report.problems) process.stdout.write(`${p.code}: ${p.path}: ${p.message}\n`);
    process.stdout.write(`${report.ok ? 'ok' : 'NOT ok'}: ${report.submissions} submissions, ${report.ports} packages, ${report.problems.length} problems\n`);
  }
  await ctx.close();
  if (!report.ok) process.exit(1);
}

export async function storeReindex(opts: DataOpts): Promise<void> {
  const config = configFrom(opts);
  const ctx = await openContext(config, createLogger('warn'));
  const r = await reindexStore(ctx.store);
  process.stdout.write(`reindexed ${r.ports} packages, ${r.submissions} submissions${r.changed ? '' : ' (no change)'}\n`);
  await ctx.close();
}

export async function imageBuild(opts: DataOpts & { arch: string }): Promise<void> {
  const config = configFrom(opts);
  if (!(ARCHES as readonly string[]).includes(opts.arch)) throw new MorphuxError('bad_request', `unknown arch ${opts.arch}: one of ${ARCHES.join(', ')}`);
  const log = createLogger(config.log.level);
  const paths = await ensureImage({ imageDir: config.imageDir, arch: opts.arch as Arch, suite: config.builder.suite, log });
  process.stdout.write(`${paths.dir}\n`);
}
