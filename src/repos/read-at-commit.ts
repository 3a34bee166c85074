// Reading a push under check: a file at a commit and commit ancestry, through `git` with the
// push's quarantine (its new objects live only there until pre-receive accepts the push); and a
// commit's time, for its builds.
import fs, { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import git from 'isomorphic-git';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkObjectId, type QuarantineEnv } from '../domain/hook-protocol.js';
import { runGit } from '../lib/git.js';

/** The env for git reading inside a quarantine; refuses paths outside gitdir (they come over HTTP). */
export async function quarantineEnv(gitdir: string, q?: QuarantineEnv | null): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  if (!q) return env;
  const root = await realpath(gitdir);
  const inside = async (p: string): Promise<string> => {
    if (!path.isAbsolute(p) || p.includes('"')) throw new MorphuxError('bad_request', 'quarantine path must be absolute', { path: p });
    const real = await realpath(p).catch(() => {
      throw new MorphuxError('bad_request', 'quarantine path does not exist', { path: p });
    });
    if (real !== root && !real.startsWith(root + path.sep)) throw new MorphuxError('bad_request', 'quarantine path outside the repo', { path: p });
    return p;
  };
  if (q.GIT_OBJECT_DIRECTORY) env.GIT_OBJECT_DIRECTORY = await inside(q.GIT_OBJECT_DIRECTORY);
  if (q.GIT_QUARANTINE_PATH) env.GIT_QUARANTINE_PATH = await inside(q.GIT_QUARANTINE_PATH);
  if (q.GIT_ALTERNATE_OBJECT_DIRECTORIES) {
    const dirs = q.GIT_ALTERNATE_OBJECT_DIRECTORIES.split(':').filter(Boolean);
    for (const d of dirs) await inside(d);
    env.GIT_ALTERNATE_OBJECT_DIRECTORIES = dirs.join(':');
  }
  return env;
}

/** The bytes of `path` in the tree of `commit`, or null when there is no such file (or it is not a file). */
export async function readFileAtCommit(gitdir: string, commit: string, file: string, quarantine?: QuarantineEnv | null): Promise<Buffer | null> {
  checkObjectId(commit);
  if (/[\n\0]/.test(file) || file.startsWith('/')) throw new MorphuxError('bad_request', `bad path ${JSON.stringify(file)}`);
  const env = await quarantineEnv(gitdir, quarantine);
  const { stdout } = await runGit(['--git-dir', gitdir, 'cat-file', '--batch'], { env, input: `${commit}:${file}\n` });
  const eol = stdout.indexOf(0x0a);
  const header = stdout.subarray(0, eol < 0 ? stdout.length : eol).toString('utf8');
  const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
  if (!m) return null; // "<rev> missing" (or ambiguous)
  if (m[1] !== 'blob') return null;
  const size = Number(m[2]);
  return stdout.subarray(eol + 1, eol + 1 + size);
}

/** Whether `ancestor` is reachable from `descendant` (both must exist). */
export async function isAncestor(gitdir: string, ancestor: string, descendant: string, quarantine?: QuarantineEnv | null): Promise<boolean> {
  checkObjectId(ancestor);
  checkObjectId(descendant);
  const env = await quarantineEnv(gitdir, quarantine);
  const r = await runGit(['--git-dir', gitdir, 'merge-base', '--is-ancestor', ancestor, descendant], { env, okExitCodes: [0, 1] });
  return r.exitCode === 0;
}

/**
 * The committer time of a commit, in unix seconds (a build's SOURCE_DATE_EPOCH). A loose commit
 * (a push of fewer than transfer.unpackLimit objects: the usual package push) is read in process
 * with isomorphic-git, which checks its hash: starting git costs the server a fork that blocks its
 * event loop for 10-25 ms at its size, on the way from push to build. A packed one (or one
 * isomorphic-git cannot read, a SHA-256 repo) is read through git.
 */
export async function commitTime(gitdir: string, commit: string): Promise<number> {
  checkObjectId(commit);
  if (existsSync(path.join(gitdir, 'objects', commit.slice(0, 2), commit.slice(2)))) {
    const t = await git.readCommit({ fs, gitdir, oid: commit }).then((c) => c.commit.committer.timestamp, () => null);
    if (t !== null && Number.isInteger(t)) return t;
  }
  const { stdout } = await runGit(['--git-dir', gitdir, 'show', '-s', '--format=%ct', commit], { encoding: 'text' });
  const t = Number(stdout.trim());
  if (!Number.isInteger(t)) throw new MorphuxError('internal', `no commit time for ${commit}`);
  return t;
}
