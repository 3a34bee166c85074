#!/usr/bin/env node
// The `mpm` program: the client lives in src/mpm/ (it shares no server code); this is its entry.
import '../mpm/cli.js';
