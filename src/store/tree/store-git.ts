// The store's own git repository: init, its settings, and running git in it. How a change is
// committed is store-commit.ts. The commit is the unit of change: what is not committed was
// never acknowledged.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';

export const COMMITTER = { GIT_COMMITTER_NAME: 'Morphux store', GIT_COMMITTER_EMAIL: 'store@morphux.invalid' };

export async function storeGit(root: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<string> {
  const r = await execa('git', args, { cwd: root, env: { ...COMMITTER, GIT_TERMINAL_PROMPT: '0', ...env }, reject: false, stripFinalNewline: true, ...(input !== undefined ? { input } : {}) });
  if (r.exitCode !== 0) {
    throw new MorphuxError('internal', `git ${args[0]} in the store failed: ${String(r.stderr).trim().slice(0, 500)}`, { args });
  }
  return String(r.stdout);
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

