// A real redis-server (Debian's package) for tests: on a free loopback port, no persistence,
// stopped after.
import { execa, type ResultPromise } from 'execa';
import { freePort } from './server-process.js';

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const proc: ResultPromise = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { reject: false, stdout: 'ignore', stderr: 'ignore' });
  const until = Date.now() + 10_000;
  for (;;) {
    const r = await execa('redis-cli', ['-p', String(port), 'ping'], { reject: false });
    if (String(r.stdout).trim() === 'PONG') break;
    if (Date.now() > until || proc.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => { proc.kill('SIGTERM'); await proc; },
  };
}
