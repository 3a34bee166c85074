// Packs a package directory into a portpkg .tgz for `mpm submit`: every entry at the archive's
// root (package.json, sources, …), without .git, owners and modes normalised (portable).
import { readdir } from 'node:fs/promises';
import * as tar from 'tar';
import { MorphuxError } from '../domain/errors.js';

export async function packDir(dir: string): Promise<Buffer> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n !== '.git').sort();
  } catch (e) {
    throw new MorphuxError('not_found', `cannot read ${dir}: ${(e as Error).message}`);
  }
  if (!names.includes('package.json')) throw new MorphuxError('invalid_manifest', `${dir} has no package.json`);
  const chunks: Buffer[] = [];
  const stream = tar.c({ cwd: dir, gzip: true, portable: true, follow: false, filter: (p) => !p.split('/').includes('.git') }, names);
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
