#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// The `mpm` program: the client lives in src/mpm/ (it shares no server code); this is its entry.
// The first line sets its memory habits before node starts: V8's young generation capped at 4 MiB
// semi-spaces (16 MiB by default), and gc() for the young-generation collections mpm/memory.ts makes
// while archives stream through, so that their dead chunks do not pile up. `node mpm.js` (the
// tests) runs without them (docs/BENCHMARKS.md, `mpm install`: 78–79 MiB peak with them, 108–109 without).
import '../mpm/cli.js';
