// A commit's tree as a gzip'd tar, entries at the root (package.json, Makefile, …): the bytes a
// submission's portpkg.tgz is made of. Deterministic: entries carry the commit time.
import { runGit } from './run-git.js';
import { checkObjectId } from './read-at-commit.js';

const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;

export async function archiveCommit(gitdir: string, commit: string, maxBytes: number = DEFAULT_MAX_BYTES): Promise<Buffer> {
  checkObjectId(commit);
  const { stdout } = await runGit(['--git-dir', gitdir, 'archive', '--format=tar.gz', commit], { maxBuffer: maxBytes });
  return stdout;
}
