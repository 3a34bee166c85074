// `morphux serve` as a separate process in its own process group, so a test can SIGKILL it (and
// its VMs) at any moment and start it again on the same data dir and port.
import { execa, type ResultPromise } from 'execa';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'src', 'cli', 'morphux.ts');

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
  constructor(readonly data: string, readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = execa(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', this.data, '--host', '127.0.0.1', '--port', String(this.port)], {
      cwd: ROOT, detached: true, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore',
    });
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      try {
        if ((await fetch(`${this.url}/api/v1/ports`)).status === 200) return;
      } catch { /* not yet */ }
      if (this.proc.exitCode !== null) throw new Error(`morphux serve exited with ${this.proc.exitCode}`);
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
