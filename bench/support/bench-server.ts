// A Morphux server for benchmarks: the data (users, repos, submissions) is made in-process through
// the test helpers, then the built server (`dist/cli/morphux.js serve`, as `npm start` runs it) runs on that data in
// a process of its own, so a load generator in the bench process does not share its event loop.
// close() stops it (and its git children) and removes the data dir.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, ServerProcess } from '../../test/support/server-process.js';
import { startTestServer, type TestServer } from '../../test/support/test-server.js';

export interface BenchServer<T> {
  url: string;
  /** the server's own pid (node) */
  pid: number;
  data: string;
  /** what setup returned */
  made: T;
  close(): Promise<void>;
}

/** opts.log: a file the server's stdout and stderr go to (default: discarded) */
export async function benchServer<T>(setup: (s: TestServer) => Promise<T>, opts: { log?: string } = {}): Promise<BenchServer<T>> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-bench-'));
  try {
    const prep = await startTestServer({ data, keep: true });
    let made: T;
    try {
      made = await setup(prep);
    } finally {
      await prep.close();
    }
    // a benchmark is a script: the throttle a person never meets would stop it
    await writeFile(path.join(data, 'morphux.yaml'), 'throttle:\n  enabled: false\n', { flag: 'a' });
    const server = new ServerProcess(data, await freePort(), { built: true, log: opts.log });
    await server.start();
    return {
      url: server.url, pid: server.pid!, data, made,
      close: async () => {
        await server.kill();
        await rm(data, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(data, { recursive: true, force: true });
    throw e;
  }
}
