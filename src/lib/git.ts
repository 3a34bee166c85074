// The one git runner: every git process of the server starts here (the import check's
// `spawns-processes` rule lets no other module of src/ but the VMs, the compressor and the client
// start a process). Plumbing, no domain knowledge: which repository, which variables and what the
// output means are the caller's.
//
// - runGit: one-shot. No shell, the output buffered (bytes, or text), a typed error when git fails.
// - spawnGit: long-running (fast-import, cat-file --batch, git-http-backend): the child and its
//   pipes, optionally in a process group of its own that killGitGroup ends whole.
// - gitEnv: the environment both give git. Nothing of the server's own environment reaches git
//   but PATH, HOME and TZ: a GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY,
//   GIT_CONFIG_* … set where the server runs (a hook, a test, an operator's shell) never does.
//   What git should see beyond that (the push quarantine, the CGI and hook variables, a scratch
//   index) the caller passes explicitly.
import { execa, type ResultPromise } from 'execa';
import type { Writable } from 'node:stream';
import { MorphuxError } from '../domain/errors.js';

/** Variables for git on top of gitEnv's; an undefined value is left out. */
export type GitEnvVars = Record<string, string | undefined>;

/**
 * The whole environment of a git process: PATH and HOME (and TZ when set) from the server's,
 * the C locale (git's messages are the same wherever the server runs), no terminal prompt, then
 * exactly what the caller passes (which may set any of these). Nothing else is inherited.
 */
export function gitEnv(vars: GitEnvVars = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME || '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
  };
  if (process.env.TZ) env.TZ = process.env.TZ;
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

export interface RunGitOptions {
  cwd?: string;
  /** Added to gitEnv's environment (the quarantine variables, GIT_INDEX_FILE, a committer …). */
  env?: GitEnvVars;
  input?: Buffer | string;
  /** 'buffer' (default): stdout as bytes, as git wrote them; 'text': UTF-8, its final newline
   *  removed (like a shell's `$(git …)`). */
  encoding?: 'buffer' | 'text';
  /** Bytes of stdout (and of stderr) kept; over it, git is killed and the call fails 'too_large'. */
  maxBuffer?: number;
  /** Milliseconds before git, and every process it started (a remote helper, a hook), is killed
   *  and the call fails 'timeout' (default: none). With a timeout git runs in a process group of
   *  its own, so that a helper left holding its output cannot keep the call waiting. */
  timeout?: number;
  /** Exit codes that are answers, not failures (default [0]); e.g. [0, 1] for `merge-base --is-ancestor`. */
  okExitCodes?: number[];
  /** false: every exit code is an answer, given in exitCode (`git fsck`'s verdict). A git that
   *  could not start, was killed or overflowed maxBuffer fails all the same. Default true. */
  reject?: boolean;
}

export interface GitResult<Out = Buffer> {
  stdout: Out;
  stderr: string;
  exitCode: number;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/** The gits started in a process group of their own (their pid is the group's id). */
const groupLeaders = new WeakSet<object>();

/** The subcommand in git's arguments, for messages: the first that is not a global option. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (['-c', '-C', '--git-dir', '--work-tree', '--namespace'].includes(args[i])) i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return args[0] ?? '';
}

/**
 * Runs git once and returns its output; throws a MorphuxError unless it exited with an accepted
 * code: 'infrastructure' (data: args, exitCode, signal, stderr), 'too_large' past maxBuffer,
 * 'timeout' past timeout.
 */
export async function runGit(args: string[], opts?: RunGitOptions & { encoding?: 'buffer' }): Promise<GitResult<Buffer>>;
export async function runGit(args: string[], opts: RunGitOptions & { encoding: 'text' }): Promise<GitResult<string>>;
export async function runGit(args: string[], opts: RunGitOptions = {}): Promise<GitResult<Buffer | string>> {
  const child = execa('git', args, {
    cwd: opts.cwd,
    env: gitEnv(opts.env),
    extendEnv: false,
    detached: opts.timeout !== undefined,
    input: opts.input,
    encoding: 'buffer',
    maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
    reject: false,
    stripFinalNewline: false,
  });
  if (opts.timeout !== undefined) groupLeaders.add(child);
  let timedOut = false;
  const timer = opts.timeout === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    killGitGroup(child);
  }, opts.timeout);
  const r = await child.finally(() => clearTimeout(timer));
  const out = Buffer.from(r.stdout as Uint8Array);
  const stderr = Buffer.from(r.stderr as Uint8Array).toString('utf8');
  const exitCode = r.exitCode ?? -1;
  const answered = r.exitCode !== undefined && !r.isMaxBuffer && !r.isTerminated && !timedOut
    && (opts.reject === false || (opts.okExitCodes ?? [0]).includes(r.exitCode));
  if (r.failed && !answered) {
    const code = r.isMaxBuffer ? 'too_large' : timedOut ? 'timeout' : 'infrastructure';
    const why = stderr.trim().split('\n').slice(-3).join(' / ') || r.shortMessage;
    throw new MorphuxError(code, `git ${subcommand(args)} ${timedOut ? `timed out after ${opts.timeout} ms` : 'failed'}: ${why}`, {
      args,
      exitCode,
      ...(r.signal ? { signal: r.signal } : {}),
      stderr: stderr.slice(0, 4000),
    });
  }
  if (opts.encoding === 'text') {
    const text = out.toString('utf8');
    return { stdout: text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text, stderr, exitCode };
  }
  return { stdout: out, stderr, exitCode };
}

export interface SpawnGitOptions {
  cwd?: string;
  /** Added to gitEnv's environment (for git-http-backend: the CGI and hook variables). */
  env?: GitEnvVars;
  /** A program of git's other than `git` itself: the absolute path of one in `git --exec-path`
   *  (git-http-backend). */
  program?: string;
  /** In a process group of its own (detached), so that killGitGroup ends it and every process it
   *  started (upload-pack, pack-objects …) at once; not killed with this process either. */
  group?: boolean;
  /** stdout: a pipe (default), ignored, or a stream with a file descriptor (a socket). */
  stdout?: 'pipe' | 'ignore' | Writable;
  /** stderr: a pipe (default) or ignored. */
  stderr?: 'pipe' | 'ignore';
}

/** A running git: an execa subprocess (await it for its exit; it never rejects), stdin a pipe,
 *  bytes on its pipes. stdout and stderr are null where not piped. */
export type GitProcess = ResultPromise<{
  buffer: false;
  encoding: 'buffer';
  reject: false;
  stdin: 'pipe';
  stdout: 'pipe' | 'ignore' | Writable;
  stderr: 'pipe' | 'ignore';
}>;

/** Starts a long-running git and returns it with its pipes; its exit is the caller's to await. */
export function spawnGit(args: string[], opts: SpawnGitOptions = {}): GitProcess {
  const child = execa(opts.program ?? 'git', args, {
    cwd: opts.cwd,
    env: gitEnv(opts.env),
    extendEnv: false,
    detached: opts.group ?? false,
    buffer: false,
    encoding: 'buffer',
    reject: false,
    stdin: 'pipe',
    stdout: opts.stdout ?? 'pipe',
    stderr: opts.stderr ?? 'pipe',
  }) as GitProcess;
  if (opts.group) groupLeaders.add(child);
  return child;
}

/** Sends signal to the process group of a git started with `group`: itself and every process
 *  under it, also one left running after git itself exited (holding its pipes). To a git without a
 *  group of its own, the process alone, unless it has exited. */
export function killGitGroup(child: Pick<GitProcess, 'exitCode' | 'signalCode' | 'pid' | 'kill'>, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  if (groupLeaders.has(child)) {
    try {
      process.kill(-child.pid, signal);
      return;
    } catch { /* the group is gone (ESRCH) */ }
  }
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
