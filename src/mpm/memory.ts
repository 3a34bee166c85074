// Dead Buffers given back soon. A Buffer's bytes live outside V8's heap and its object inside is
// ~100 bytes, so the chunks of a download (up to 64 KiB each) or of an inflated archive fill the
// young generation so slowly that tens of MiB of dead chunks wait for a collection (V8 collects for
// outside memory only past 64 MiB of it): ~25 MiB of an install's peak RSS. With gc() exposed
// (mpm's first line passes --expose-gc), a young-generation collection after every STEP bytes
// moved frees them, ~1 ms each (docs/BENCHMARKS.md, `mpm install`: 1 MiB, 2 and 4 gave 83, 79 and
// 81 MiB). Without it (`node mpm.js`, the tests) this does nothing.
const STEP = 2 << 20;
const gc = (globalThis as { gc?: (o?: { type?: 'minor' | 'major' }) => void }).gc;
let moved = 0;

/** Counts bytes read, written or inflated through Buffers that are dead right after. */
export function churned(bytes: number): void {
  if (!gc) return;
  moved += bytes;
  if (moved < STEP) return;
  moved = 0;
  gc({ type: 'minor' });
}
