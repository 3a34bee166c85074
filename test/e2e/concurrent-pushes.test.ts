// Concurrent pushes to several repos at once: every accepted version-branch push gets its own
// pkgid (distinct, never reused), nothing is lost, the indexes equal a fresh reindex and fsck is
// clean. No VM: the worker is off, submissions stay queued.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deriveIndexes } from '../../src/store/derive-indexes.js';
import { fsckStore } from '../../src/store/fsck-store.js';
import { storePaths } from '../../src/store/store-paths.js';
import { commitAll, editManifest, fixtureRepo, git, pushUrl, queuedLine } from '../support/git-client.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

const REPOS = 4;
const PUSHES = 3;

describe('concurrent pushes', function () {
  this.timeout(300_000);
  let s: TestServer;
  before(async () => { s = await startTestServer({ worker: false }); });
  after(async () => s && (await s.close()));

  it(`${REPOS} repos × ${PUSHES} version branches pushed at once → ${REPOS * PUSHES} distinct pkgids, fsck clean`, async () => {
    const token = await newUser(s, 'alice');
    const names = Array.from({ length: REPOS }, (_, i) => `pkg${i}`);
    for (const n of names) expect((await api(s.url, 'POST', '/api/v1/repos', { name: n }, token)).status).to.equal(201);
    const pushes = names.flatMap((name) => Array.from({ length: PUSHES }, (_, v) => ({ name, version: `1.${v}` })));
    const outs = await Promise.all(pushes.map(async ({ name, version }) => {
      const wc = await fixtureRepo('hello', (p) => { p.name = name; p.version = version; });
      await editManifest(wc, (p) => { p.description = `${name} ${version}`; });
      await commitAll(wc, `${name} ${version}`);
      return git(wc, 'push', pushUrl(s.url, name, 'alice', token), `HEAD:refs/heads/version-${version}`);
    }));
    const ids = outs.map((o) => queuedLine(o.out)?.pkgid);
    expect(ids.every((id) => typeof id === 'number'), outs.map((o) => o.out).join('\n')).to.equal(true);
    expect(new Set(ids).size).to.equal(pushes.length);
    expect([...ids].sort((a, b) => a! - b!)).to.deep.equal(Array.from({ length: pushes.length }, (_, i) => i + 1));
    for (const name of names) {
      const r = await api(s.url, 'GET', `/api/v1/ports/${name}`);
      expect(r.json.submissions.map((x: any) => x.version).sort()).to.deep.equal(Array.from({ length: PUSHES }, (_, v) => `1.${v}`));
    }
    const { indexes } = await deriveIndexes(s.ctx.store);
    for (const [name, ix] of indexes) {
      expect(JSON.parse(await readFile(path.join(s.data, 'store', storePaths.portIndex(name)), 'utf8'))).to.deep.equal(ix);
    }
    const report = await fsckStore(s.ctx.store);
    expect(report.problems).to.deep.equal([]);
    expect(report.submissions).to.equal(pushes.length);
  });
});
