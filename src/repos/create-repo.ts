// Creating package repos: `git init --bare` into a hidden temp dir beside the target, configure,
// install the hooks, then rename into place, so a half-made repo is never visible. Also
// repoExists and listRepos.
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { isPackageName } from '../domain/names.js';
import { installHooks } from './install-hooks.js';
import { repoDir } from './repo-paths.js';
import { runGit } from '../lib/git.js';

const REPO_CONFIG: [string, string][] = [
  ['receive.denyNonFastForwards', 'false'], // the policy lives in our pre-receive
  ['receive.denyDeletes', 'false'],
  ['receive.fsckObjects', 'true'],
  ['http.receivepack', 'true'],
  ['core.hooksPath', 'hooks'], // a global core.hooksPath must never bypass our hooks
];

// git archive honours .gitattributes in the tree; info/attributes wins over them, so a snapshot
// is always the whole tree, unchanged.
const INFO_ATTRIBUTES = '* -export-ignore -export-subst\n';

export async function createRepo(reposRoot: string, name: string): Promise<string> {
  const dir = repoDir(reposRoot, name);
  if (await repoExists(reposRoot, name)) throw new MorphuxError('already_exists', `repo ${name} already exists`, { name });
  const tmp = await mkdtemp(path.join(path.dirname(dir), `.tmp-${name}-`));
  try {
    await runGit(['init', '--bare', '--quiet', '--template=', '--initial-branch=master', tmp]);
    for (const [key, value] of REPO_CONFIG) await runGit(['--git-dir', tmp, 'config', key, value]);
    await mkdir(path.join(tmp, 'info'), { recursive: true });
    await writeFile(path.join(tmp, 'info', 'attributes'), INFO_ATTRIBUTES);
    await installHooks(tmp);
    try {
      await rename(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new MorphuxError('already_exists', `repo ${name} already exists`, { name });
      throw e;
    }
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function repoExists(reposRoot: string, name: string): Promise<boolean> {
  if (!isPackageName(name)) return false;
  try {
    return (await stat(path.join(repoDir(reposRoot, name), 'HEAD'))).isFile();
  } catch {
    return false;
  }
}

export async function listRepos(reposRoot: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(reposRoot, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries
    .filter((e) => e.isDirectory() && e.name.endsWith('.git'))
    .map((e) => e.name.slice(0, -'.git'.length))
    .filter(isPackageName)
    .sort();
}
