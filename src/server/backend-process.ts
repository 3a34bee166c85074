// One git-http-backend run: started in a process group of its own (so it, the upload-pack or
// receive-pack under it and their pack-objects die together), killed as a group, its stderr kept
// (the first 8 KiB) for the log line written when it ends.
import type { Socket } from 'node:net';
import { execa } from 'execa';
import type { Logger } from '../lib/logger.js';

const STDERR_KEPT = 8192;

const spawn = (backend: string, env: Record<string, string>, cwd: string, stdout: 'pipe' | Socket) =>
  execa(backend, [], {
    env,
    extendEnv: false,
    cwd,
    detached: true,
    buffer: false,
    encoding: 'buffer',
    reject: false,
    stdin: 'pipe',
    stdout,
    stderr: 'pipe',
  });

export interface BackendProcess {
  /** stdin is a pipe; stdout a pipe unless a socket was given (then null). */
  child: ReturnType<typeof spawn>;
  /** SIGKILL to the whole group, once, unless it has exited; why goes to the log. */
  kill(why: string): void;
  /** Wait for the exit and log it: a warning when it failed without being killed. True when it
   *  exited 0 and was not killed. */
  finished(): Promise<boolean>;
}

export function startBackend(backend: string, env: Record<string, string>, cwd: string, stdout: 'pipe' | Socket, log: Logger): BackendProcess {
  const child = spawn(backend, env, cwd, stdout);
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr.on('data', (c: Buffer) => {
    if (stderrBytes < STDERR_KEPT) stderr.push(c);
    stderrBytes += c.length;
  });
  child.stderr.on('error', () => {});
  child.stdin.on('error', () => {}); // EPIPE when git stops reading early: its exit tells the story
  let killed = false;
  return {
    child,
    kill(why) {
      if (killed) return;
      killed = true;
      if (child.exitCode !== null || child.pid === undefined) return;
      log.info({ why }, 'stopping git-http-backend');
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    },
    async finished() {
      const result = await child;
      const text = Buffer.concat(stderr).toString('utf8').slice(0, STDERR_KEPT) || undefined;
      const detail = { exitCode: result.exitCode, signal: result.signal, stderr: text };
      if (result.exitCode !== 0 && !killed) log.warn(detail, 'git-http-backend failed');
      else log.debug(detail, 'git-http-backend done');
      return result.exitCode === 0 && !killed;
    },
  };
}
