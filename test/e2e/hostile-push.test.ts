// Hostile git pushes to a real server (worker off): blobs over the push limit, trees over the
// portpkg limits (10,000 files, too many bytes unpacked), links leading outside, names that are
// not UTF-8 or hold control characters or are overlong, package.json files with bad text,
// overlong fields or __proto__ keys. Each push fails with a `remote: refused (<code>): <branch>: …`
// line, checked by its code (or a 413 past the size limit), the repo's refs and the store stay as
// they were, and the server still takes a good push afterwards.
import { expect } from 'chai';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git, pushUrl, queuedLine, refusalsIn } from '../support/git-client.js';
import { HOSTILE_MANIFESTS, HOSTILE_TREE_ENTRIES, manifestText, manyFiles, treeCommit, type TreeEntry } from '../support/hostile-trees.js';
import { storeStatus } from '../support/refusals.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

const PUSH_LIMIT = 2 * 1024 * 1024;
const UNPACKED_LIMIT = 8 * 1024 * 1024;

describe('hostile pushes: each refused with a reason, refs and store unchanged', function () {
  this.timeout(180_000);
  let s: TestServer;
  let wc: string;
  let base = '';
  let token = '';
  const snapshot = async () => {
    const store = path.join(s.data, 'store');
    return {
      refs: (await git(os.tmpdir(), 'ls-remote', `${s.url}/hello.git`)).out,
      head: (await execa('git', ['rev-parse', 'HEAD'], { cwd: store })).stdout,
      dirty: await storeStatus(store),
      submissions: (await api(s.url, 'GET', '/api/v1/ports/hello')).json.submissions.length,
    };
  };
  const push = (commit: string, branch: string) => git(wc, 'push', '--porcelain', pushUrl(s.url, 'hello', 'alice', token), `${commit}:refs/heads/${branch}`);

  before(async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `server:\n  push_limit_bytes: ${PUSH_LIMIT}\nportpkg:\n  max_unpacked_bytes: ${UNPACKED_LIMIT}\n`);
    s = await startTestServer({ worker: false, data });
    token = await newUser(s, 'alice');
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, token)).status).to.equal(201);
    wc = await mkdtemp(path.join(os.tmpdir(), 'wc-hostile-'));
    await git(wc, 'init', '-q', '-b', 'master');
    await writeFile(path.join(wc, 'package.json'), manifestText('hello', '1.0'));
    await git(wc, 'add', '-A');
    await git(wc, 'commit', '-q', '-m', 'hello 1.0');
    base = (await git(wc, 'rev-parse', 'HEAD')).out.trim();
    const r = await push(base, 'version-1.0');
    expect(queuedLine(r.out), r.out).to.not.equal(null);
  });
  after(async () => {
    if (wc) await rm(wc, { recursive: true, force: true });
    if (s) await s.close();
  });

  /** what, branch, the commit to push, why: the refusal's code, or (a RegExp) git's own error */
  type Case = [string, string, () => Promise<string>, string | RegExp];
  const over = /HTTP 413|exceeds maximum allowed size/;
  const tree = (entries: TreeEntry[], version = '2.0') => () => treeCommit(wc, base, manifestText('hello', version), entries);
  const cases: Case[] = [
    ['a blob over the push limit (master)', 'master', tree([{ path: 'big.bin', body: randomBytes(PUSH_LIMIT + 512 * 1024) }]), over],
    ['a blob over the push limit (version branch)', 'version-2.0', tree([{ path: 'big.bin', body: randomBytes(PUSH_LIMIT + 512 * 1024) }]), over],
    ['a small pack that unpacks over the portpkg limit', 'version-2.0', tree([{ path: 'zeros.bin', body: Buffer.alloc(UNPACKED_LIMIT + 1024) }]), 'too_large'],
    ['a 10,000-file tree (portpkg.max_entries 8192 by default)', 'version-2.0', tree(manyFiles(10_000)), 'too_large'],
    ...HOSTILE_TREE_ENTRIES.map(([what, entries, code]): Case => [`a tree with ${what}`, 'version-2.0', tree(entries), code]),
    ...HOSTILE_MANIFESTS.map(([what, make]): Case => [what, 'version-2.0', () => treeCommit(wc, base, make('hello', '2.0'), []), 'invalid_manifest']),
    ['a branch naming an overlong version', `version-${'1.'.repeat(40)}1`, tree([], `${'1.'.repeat(40)}1`), 'version_mismatch'],
  ];

  for (const [what, branch, make, why] of cases) {
    it(`refuses ${what}`, async () => {
      const commit = await make();
      const before = await snapshot();
      const r = await push(commit, branch);
      expect(r.code, r.out).to.not.equal(0);
      if (typeof why === 'string') {
        const refusals = refusalsIn(r.out);
        expect(refusals.map((x) => x.code), r.out).to.deep.equal([why]);
        expect(refusals[0].message.startsWith(`${branch}: `), r.out).to.equal(true);
      } else {
        expect(r.out, JSON.stringify(r.out)).to.match(why);
      }
      expect(r.out).to.not.match(/submission \d+ queued/);
      expect(await snapshot()).to.deep.equal(before);
    });
  }

  it('refuses the hook endpoint to anyone but its own hooks: no secret, a wrong one, a user\'s token (403); nothing changes', async () => {
    const before = await snapshot();
    const stdin = `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/version-9.0\n`;
    for (const authorization of [undefined, `Bearer ${'0'.repeat(64)}`, `Bearer ${token}`]) {
      for (const hook of ['pre-receive', 'post-receive']) {
        const r = await fetch(`${s.url}/internal/hooks/${hook}`, {
          method: 'POST', body: stdin,
          headers: { 'content-type': 'text/plain', 'x-morphux-repo': 'hello', 'x-morphux-pusher': 'alice', ...(authorization ? { authorization } : {}) },
        });
        expect(r.status, `${hook} ${authorization ?? 'none'}`).to.equal(403);
        expect((await r.json()).error.code).to.equal('forbidden');
      }
    }
    expect(await snapshot()).to.deep.equal(before);
  });

  it('still takes a good push afterwards (a 1,000-file tree under the limits), and makes its submission', async () => {
    const commit = await treeCommit(wc, base, manifestText('hello', '2.0'), manyFiles(1000));
    const r = await push(commit, 'version-2.0');
    expect(r.code, r.out).to.equal(0);
    const q = queuedLine(r.out);
    expect(q).to.not.equal(null);
    expect((await api(s.url, 'GET', `/api/v1/pkg/${q!.pkgid}`)).json.submission.version).to.equal('2.0');
  });
});
