// The store's own git repository: init, its settings, and running git in it. How a change is
// committed is store-commit.ts. The commit is the unit of change: what is not committed was
// never acknowledged.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runGit } from '../../lib/git.js';

export const COMMITTER = { GIT_COMMITTER_NAME: 'Morphux store', GIT_COMMITTER_EMAIL: 'store@morphux.invalid' };

/** git in the store (lib/git's runner) as the store's committer: its output as text, the final
 *  newline removed. */
export async function storeGit(root: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<string> {
  return (await runGit(args, { cwd: root, env: { ...COMMITTER, ...env }, input, encoding: 'text' })).stdout;
}

export function authorOf(user: string): string {
  return `${user} <${user}@users.morphux.invalid>`;
}

export async function initStoreRepo(root: string): Promise<void> {
  if (existsSync(path.join(root, '.git'))) return;
  await storeGit(root, ['init', '-q', '-b', 'main']);
  for (const [k, v] of [
    ['core.fsync', 'committed,index'],
    ['core.fsyncMethod', 'fsync'],
    ['gc.auto', '0'],
    ['receive.denyCurrentBranch', 'refuse'],
    ['user.name', 'Morphux store'],
    ['user.email', 'store@morphux.invalid'],
  ]) {
    await storeGit(root, ['config', k, v]);
  }
  await mkdir(path.join(root, '.git', 'info'), { recursive: true });
  // package trees carry their own .gitattributes: the store keeps every byte as it is
  await writeFile(path.join(root, '.git', 'info', 'attributes'), '* -text -eol -filter -ident -export-subst -working-tree-encoding -diff -merge\n');
}

