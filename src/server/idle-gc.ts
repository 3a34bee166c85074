// One full garbage collection when the server goes quiet after serving: a burst of clones and
// downloads leaves tens of MB of dead stream buffers that V8 frees only at its next collection,
// which an idle server may not make for minutes. Needs node's --expose-gc (dist/cli/morphux.js's
// first line); without it this does nothing.
import type { Server } from 'node:http';
import type { Logger } from '../lib/logger.js';

const TICK_MS = 1_000;
const QUIET_TICKS = 2; // no new request for this many ticks: quiet
const MIN_GAP_MS = 10_000; // at most one collection this often, whatever the traffic

/** Starts watching; the returned function stops it. */
export function collectWhenQuiet(server: Server, log: Logger): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return () => {};
  // a counter, not a listener on each response: the read path's cost per request stays one increment
  let requests = 0;
  const count = () => { requests++; };
  server.on('request', count);
  let seen = 0;
  let quiet = 0;
  let lastGc = 0;
  let servedSinceGc = false;
  const tick = setInterval(() => {
    if (requests !== seen) {
      seen = requests;
      quiet = 0;
      servedSinceGc = true;
      return;
    }
    if (++quiet < QUIET_TICKS || !servedSinceGc || Date.now() - lastGc < MIN_GAP_MS) return;
    const t0 = performance.now();
    gc();
    lastGc = Date.now();
    servedSinceGc = false;
    log.debug({ ms: Math.round(performance.now() - t0) }, 'garbage collected after a burst');
  }, TICK_MS).unref();
  return () => {
    clearInterval(tick);
    server.off('request', count);
  };
}
