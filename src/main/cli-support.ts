// What the operator's commands share: the config read once from --config/--data/--host/--port and
// the environment, and stopping on signals. One-line errors are lib/command-errors.ts's.
import { loadConfig, type LoadedConfig, type Overrides } from '../config/load-config.js';
import { fail } from '../lib/command-errors.js';

export function configFrom(opts: { data?: string; config?: string; host?: string; port?: string }): LoadedConfig {
  const o: Overrides = { data: opts.data, config: opts.config, host: opts.host };
  if (opts.port !== undefined) {
    const p = Number(opts.port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) fail(`error: --port must be a port number, not ${opts.port}`);
    o.port = p;
  }
  return loadConfig(o);
}

/** A long-running command's end: on SIGINT or SIGTERM, close once, then exit (forced after graceMs). */
export function stopOnSignals(close: () => Promise<unknown>, log?: { info(o: object, m: string): void }, graceMs = 15_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log?.info({ signal }, 'stopping');
    setTimeout(() => process.exit(1), graceMs).unref();
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
