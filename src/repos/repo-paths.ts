// Where a package's bare repo lives: <reposRoot>/<name>.git, for checked names only, so a path
// built here never leaves the root.
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName } from '../domain/names.js';

export function repoDir(reposRoot: string, name: string): string {
  checkPackageName(name);
  const root = path.resolve(reposRoot);
  const dir = path.join(root, `${name}.git`);
  if (path.dirname(dir) !== root) throw new MorphuxError('invalid_name', `package name ${JSON.stringify(name)} is not one path segment`);
  return dir;
}
