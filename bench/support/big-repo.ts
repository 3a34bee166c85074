// A large package repo for the git benches: the hello fixture plus random (incompressible) files
// spread over several commits, pushed over smart HTTP to branch `main` of a server (a branch that
// builds nothing). Returns the repo's name and its bare directory on the server.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitAll, fixtureRepo, git, pushUrl } from '../../test/support/git-client.js';
import { maintainer } from '../../test/support/good-submission.js';
import type { TestServer } from '../../test/support/test-server.js';

export async function pushBigRepo(s: TestServer, name: string, totalBytes: number, commits = 5, filesPerCommit = 4): Promise<{ name: string; bare: string }> {
  const who = await maintainer(s, name);
  const wc = await fixtureRepo('hello', (p) => { p.name = name; });
  try {
    const size = Math.ceil(totalBytes / (commits * filesPerCommit));
    for (let c = 0; c < commits; c++) {
      await mkdir(path.join(wc, 'data', `c${c}`), { recursive: true });
      for (let f = 0; f < filesPerCommit; f++) await writeFile(path.join(wc, 'data', `c${c}`, `blob${f}.bin`), randomBytes(size));
      await commitAll(wc, `random data ${c + 1}/${commits}`);
    }
    const r = await git(wc, 'push', pushUrl(s.url, name, who.user, who.token), 'HEAD:refs/heads/main');
    if (r.code !== 0) throw new Error(`push of ${name}: ${r.out}`);
    const head = await git(path.join(s.ctx.layout.repos, `${name}.git`), 'symbolic-ref', 'HEAD', 'refs/heads/main'); // clones check out main
    if (head.code !== 0) throw new Error(`symbolic-ref in ${name}.git: ${head.out}`);
  } finally {
    await rm(wc, { recursive: true, force: true });
  }
  return { name, bare: path.join(s.ctx.layout.repos, `${name}.git`) };
}
