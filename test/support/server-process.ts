// `morphux serve` as a separate process in its own process group, so a test can SIGKILL it (and
// its VMs) at any moment and start it again on the same data dir and port. `built: true` runs
// dist/cli/morphux.js (`npm run build`) instead of the source through tsx, as benchmarks do: run
// as an executable, as `npm start` and `npx morphux` do, so its first line's memory settings apply.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'src', 'cli', 'morphux.ts');
const BUILT_CLI = path.join(ROOT, 'dist', 'cli', 'morphux.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** Runs a morphux command to completion; stdout as text. */
export async function morphux(args: string[]): Promise<string> {
  const r = await execa(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT });
  return String(r.stdout);
}

export class ServerProcess {
  private proc: ResultPromise | null = null;
  /** opts.log: a file the server's stdout and stderr are appended to (default: discarded) */
  /** opts.rebuild: builder.rebuild.when (MORPHUX_REBUILD), none unless a test is about the rebuild check */
  constructor(readonly data: string, readonly port: number, private readonly opts: { built?: boolean; log?: string; rebuild?: 'every' | 'sample' | 'none' } = {}) {}

  /** The server's own pid (node), while it runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.opts.built && !existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run npm run build`);
    const [file, cli] = this.opts.built ? [BUILT_CLI, []] : [process.execPath, ['--import', 'tsx', CLI]];
    const logFile = this.opts.log ?? path.join(this.data, 'serve.log'); // for the error below when none is asked for
    const out = { file: logFile, append: true };
    this.proc = execa(file, [...cli, 'serve', '--data', this.data, '--host', '127.0.0.1', '--port', String(this.port)], {
      cwd: ROOT, detached: true, reject: false, stdin: 'ignore', stdout: out, stderr: out,
      env: { MORPHUX_REBUILD: this.opts.rebuild ?? 'none' },
    });
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      try {
        if ((await fetch(`${this.url}/api/v1/ports`)).status === 200) return;
      } catch { /* not yet */ }
      if (this.proc.exitCode !== null) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).slice(-1500);
        throw new Error(`morphux serve exited with ${this.proc.exitCode}: ${tail}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('morphux serve did not answer within 60 s');
  }

  /** SIGKILL to the whole process group: the server, its git processes and its VMs. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p?.pid) return;
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
    await p;
    this.proc = null;
  }
}
