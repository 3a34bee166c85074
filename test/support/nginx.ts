// A real nginx (Debian's package; scripts/setup.sh installs it and leaves the system service off)
// on a free loopback port, in the foreground, with a config, logs and temp folders in a temp dir;
// the caller gives the `server { … }` body (locations). stop() ends it and removes the dir.
// Used by the benchmarks as the reference static server.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server-process.js';

const NGINX = '/usr/sbin/nginx';

export interface TestNginx {
  url: string;
  /** A folder for the files it serves (readable by nginx's workers). */
  root: string;
  /** The master process (workers are its children). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts nginx; `locations(root)` returns the directives inside `server { }` (listen, root and
 * access_log are set here). `workers` defaults to 1, one event loop like a Node server.
 */
export async function startNginx(opts: { locations: (root: string) => string; workers?: number }): Promise<TestNginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run scripts/setup.sh as root (it installs Debian's nginx)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-nginx-'));
  await chmod(dir, 0o755); // workers run as nobody when the master is root
  const root = path.join(dir, 'root');
  await mkdir(root, { mode: 0o755 });
  await mkdir(path.join(dir, 'tmp'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  const tmp = (what: string) => `${what}_temp_path ${path.join(dir, 'tmp', what)};`;
  await writeFile(conf, `daemon off;
worker_processes ${opts.workers ?? 1};
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  ${tmp('client_body')} ${tmp('proxy')} ${tmp('fastcgi')} ${tmp('uwsgi')} ${tmp('scgi')}
  server {
    listen 127.0.0.1:${port};
    root ${root};
${opts.locations(root)}
  }
}
`);
  const proc: ResultPromise = execa(NGINX, ['-c', conf, '-p', dir], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/`);
      break;
    } catch { /* not yet */ }
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${String((await proc).stderr)}`);
    if (Date.now() > until) throw new Error('nginx did not listen within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, root, pid: proc.pid!,
    stop: async () => {
      proc.kill('SIGTERM'); // nginx: fast shutdown, workers included
      await proc;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
