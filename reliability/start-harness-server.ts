// The server a reliability harness drives: a fresh data dir whose DATA/morphux.yaml turns the
// embedded build worker on or off, an admin made by `morphux user add`, and `morphux serve` as its
// own process group (test/support/server-process.ts), so it can be SIGKILLed and started again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { freePort, morphux, ServerProcess } from '../test/support/server-process.js';
import { api } from '../test/support/test-server.js';

export interface HarnessServer {
  data: string;
  server: ServerProcess;
  adminToken: string;
  /** a registered user's token */
  newUser(name: string): Promise<string>;
  /** SIGKILLs the server; removes the data dir unless keep */
  close(keep?: boolean): Promise<void>;
}

/** built: run dist/cli/morphux.js (as deployed: hooks in plain node) instead of the source through tsx */
export async function startHarnessServer(o: { worker: boolean; prefix: string; built?: boolean }): Promise<HarnessServer> {
  const data = await mkdtemp(path.join(os.tmpdir(), `${o.prefix}-`));
  await writeFile(path.join(data, 'morphux.yaml'), YAML.stringify({ builder: { embedded_worker: o.worker }, throttle: { enabled: false }, log: { level: 'info' } }));
  const adminToken = (await morphux(['user', 'add', 'root', '--admin', '--data', data])).trim();
  const server = new ServerProcess(data, await freePort(), { log: path.join(data, 'serve.log'), built: o.built });
  await server.start();
  return {
    data, server, adminToken,
    newUser: async (name) => {
      const r = await api(server.url, 'POST', '/api/v1/users', { name }, adminToken);
      if (r.status !== 201) throw new Error(`POST /api/v1/users ${name}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.token as string;
    },
    close: async (keep = false) => {
      await server.kill();
      if (!keep) await rm(data, { recursive: true, force: true });
    },
  };
}
