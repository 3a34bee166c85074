// A commit's tree as a gzip'd tar, entries at the root (package.json, Makefile, …): the bytes a
// submission's portpkg.tgz is made of. Deterministic: entries carry the commit time. Inside a
// push's quarantine too, so pre-receive checks the very archive the submission will be made of.
import { runGit } from '../lib/git.js';
import { checkObjectId, type QuarantineEnv } from '../domain/hook-protocol.js';
import { quarantineEnv } from './read-at-commit.js';

const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;

export async function archiveCommit(gitdir: string, commit: string, maxBytes: number = DEFAULT_MAX_BYTES, quarantine?: QuarantineEnv | null): Promise<Buffer> {
  checkObjectId(commit);
  const env = await quarantineEnv(gitdir, quarantine);
  const { stdout } = await runGit(['--git-dir', gitdir, 'archive', '--format=tar.gz', commit], { env, maxBuffer: maxBytes });
  return stdout;
}
