// One git-http-backend run (started by lib/git, in the clean environment it gives git, plus the
// caller's CGI and hook variables): in a process group of its own (so it, the upload-pack or
// receive-pack under it and their pack-objects die together), killed as a group, its stderr kept
// (the first 8 KiB) for the log line written when it ends.
import type { Socket } from 'node:net';
import { killGitGroup, spawnGit, type GitProcess } from '../lib/git.js';
import type { Logger } from '../lib/logger.js';

const STDERR_KEPT = 8192;

export interface BackendProcess {
  /** stdin and stderr are pipes; stdout a pipe unless a socket was given (then null). */
  child: GitProcess;
  /** SIGKILL to the whole group, once, unless it has exited; why goes to the log. */
  kill(why: string): void;
  /** Wait for the exit and log it: a warning when it failed without being killed. True when it
   *  exited 0 and was not killed. */
  finished(): Promise<boolean>;
}

export function startBackend(backend: string, env: Record<string, string>, cwd: string, stdout: 'pipe' | Socket, log: Logger): BackendProcess {
  const child = spawnGit([], { program: backend, env, cwd, group: true, stdout });
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr!.on('data', (c: Buffer) => {
    if (stderrBytes < STDERR_KEPT) stderr.push(c);
    stderrBytes += c.length;
  });
  child.stderr!.on('error', () => {});
  child.stdin.on('error', () => {}); // EPIPE when git stops reading early: its exit tells the story
  let killed = false;
  return {
    child,
    kill(why) {
      if (killed) return;
      killed = true;
      if (child.exitCode !== null || child.pid === undefined) return;
      log.info({ why }, 'stopping git-http-backend');
      killGitGroup(child, 'SIGKILL');
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
