// The one way this project runs the git command line: execa, no shell, a clean environment
// (PATH and HOME only, unless extendEnv), binary output, and a typed error when git fails.
import { execa } from 'execa';
import { MorphuxError } from '../domain/errors.js';

export interface RunGitOptions {
  cwd?: string;
  /** Added to the environment (PATH and HOME, or the whole parent env when extendEnv). */
  env?: Record<string, string | undefined>;
  /** Pass the parent's environment on to git (default false: GIT_DIR & co. never leak in). */
  extendEnv?: boolean;
  input?: Buffer | string;
  maxBuffer?: number;
  /** Exit codes that are answers, not failures (default [0]); e.g. [0, 1] for `merge-base --is-ancestor`. */
  okExitCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

export async function runGit(args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  const extendEnv = opts.extendEnv ?? false;
  const env: Record<string, string | undefined> = extendEnv ? { ...opts.env } : { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
  const r = await execa('git', args, {
    cwd: opts.cwd,
    env,
    extendEnv,
    input: opts.input,
    encoding: 'buffer',
    maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
    reject: false,
    stripFinalNewline: false,
  });
  const stdout = Buffer.from(r.stdout as Uint8Array);
  const stderr = Buffer.from(r.stderr as Uint8Array).toString('utf8');
  const exitCode = r.exitCode ?? -1;
  if (r.failed && !(r.exitCode !== undefined && (opts.okExitCodes ?? [0]).includes(r.exitCode) && !r.isMaxBuffer && !r.isTerminated)) {
    throw new MorphuxError(r.isMaxBuffer ? 'too_large' : 'infrastructure', `git ${args[0] ?? ''} failed: ${stderr.trim().split('\n').slice(-3).join(' / ') || r.shortMessage}`, {
      args,
      exitCode,
      stderr: stderr.slice(0, 4000),
    });
  }
  return { stdout, stderr, exitCode };
}
