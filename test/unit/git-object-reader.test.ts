// GitObjectReader (store/tree/git-object-reader.ts) against real git: objects of every size, asked
// for one after another and many at once through the one cat-file --batch, come back whole and in
// order; a missing one is null; a large blob arrives across many pipe reads.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGit } from '../../src/lib/git.js';
import { GitObjectReader, parseTree } from '../../src/store/tree/git-object-reader.js';

describe('GitObjectReader: one cat-file --batch for many reads', function () {
  this.timeout(60_000);
  let dir: string;
  let gitdir: string;
  let reader: GitObjectReader;
  const blobs = new Map<string, Buffer>(); // oid -> bytes
  let tree = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'git-object-reader-'));
    gitdir = path.join(dir, 'r.git');
    await runGit(['init', '-q', '--bare', gitdir]);
    const entries: string[] = [];
    for (const [name, size] of [['empty', 0], ['one', 1], ['small', 100], ['64k', 65536], ['1m', 1 << 20], ['5m', 5 * (1 << 20) + 7]] as const) {
      const bytes = randomBytes(size);
      const oid = (await runGit(['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], { input: bytes })).stdout.toString().trim();
      blobs.set(oid, bytes);
      entries.push(`100644 blob ${oid}\t${name}`);
    }
    tree = (await runGit(['--git-dir', gitdir, 'mktree'], { input: entries.join('\n') + '\n' })).stdout.toString().trim();
    reader = new GitObjectReader(gitdir);
  });
  after(async () => {
    await reader.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('reads each blob whole, one after another', async () => {
    for (const [oid, bytes] of blobs) {
      const o = await reader.read(oid);
      expect(o?.type, oid).to.equal('blob');
      expect(o!.data.length).to.equal(bytes.length);
      expect(sha(o!.data)).to.equal(sha(bytes));
    }
  });

  it('answers a small read right after a large one at once (nothing waits for bytes the large one needed)', async () => {
    const [large, small] = [[...blobs].at(-1)!, [...blobs][1]!];
    expect(sha((await reader.read(large[0]))!.data)).to.equal(sha(large[1]));
    const t = Date.now();
    expect((await reader.read(small[0]))!.data).to.deep.equal(small[1]);
    expect(Date.now() - t).to.be.below(2000);
  });

  it('answers many reads asked at once in their order, a missing object as null, a tree parsed', async () => {
    const asks = [...blobs.keys(), 'f'.repeat(40), tree, ...[...blobs.keys()].reverse(), `${tree}:5m`, `${tree}:nosuch`];
    const got = await Promise.all(asks.map((a) => reader.read(a)));
    for (const [i, a] of asks.entries()) {
      const want = blobs.get(a) ?? (a === `${tree}:5m` ? [...blobs.values()].at(-1) : undefined);
      if (want) expect(sha(got[i]!.data), a).to.equal(sha(want));
      else if (a === tree) expect(parseTree(got[i]!.data).map((e) => e.name).sort()).to.deep.equal(['1m', '5m', '64k', 'empty', 'one', 'small']);
      else expect(got[i], a).to.equal(null);
    }
  });
});
