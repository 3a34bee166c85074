// A read replica (`morphux replica` as its own process) of a real primary: it clones store.git,
// serves /pkg, /port, /store and the read API from its clone, picks up a submission made on the
// primary within its fetch interval, and at once after POST /internal/replica/notify.
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portpkgDir } from '../../src/store/store-paths.js';
import { markBuilt, packFixture, upload } from '../support/portpkgs.js';
import { freePort } from '../support/server-process.js';
import { api, startTestServer, type TestServer } from '../support/test-server.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'morphux.ts');
const INTERVAL = 2;

describe('read replica: a clone of store.git serving the read routes', function () {
  this.timeout(120_000);
  let s: TestServer;
  let dir: string;
  let proc: ResultPromise;
  let replica: string;

  const submit = async (version: string): Promise<number> => {
    const r = await upload(s, await packFixture('hello', (p) => { p.version = version; }), s.adminToken);
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    await markBuilt(s, r.json.pkgid, 'good');
    return r.json.pkgid;
  };
  const seen = async (pkgid: number, ms: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      // a sync is a git reset: done once the status and the query URL both show it
      const st = (await api(replica, 'GET', `/api/v1/pkg/${pkgid}`)).json?.status?.state;
      if (st === 'good' && (await api(replica, 'GET', '/port/hello')).headers.get('location') === `/pkg/${pkgid}`) return Date.now() - t0;
      if (Date.now() - t0 > ms) throw new Error(`pkgid ${pkgid} not on the replica after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    s = await startTestServer();
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, s.adminToken)).status).to.equal(201);
    await submit('1.0');
    dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-replica-'));
    const port = await freePort();
    replica = `http://127.0.0.1:${port}`;
    proc = execa(process.execPath, ['--import', 'tsx', CLI, 'replica', '--upstream', s.url, '--data', dir, '--host', '127.0.0.1', '--port', String(port), '--interval', String(INTERVAL)], {
      detached: true, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore',
    });
    const until = Date.now() + 60_000;
    for (;;) {
      try { if ((await fetch(`${replica}/api/v1/ports`)).status === 200) break; } catch { /* not yet */ }
      if (Date.now() > until || proc.exitCode !== null) throw new Error('morphux replica did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  after(async () => {
    if (proc?.pid) { try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ } await proc; }
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves what the primary had when it started, read for read the same', async () => {
    for (const p of ['/api/v1/pkg/1', '/api/v1/ports/hello', '/api/v1/ports?q=hello']) {
      const [a, b] = [await api(s.url, 'GET', p), await api(replica, 'GET', p)];
      expect(b.status, p).to.equal(200);
      expect(b.json, p).to.deep.equal(a.json);
    }
    const [pa, pb] = [await fetch(`${s.url}/pkg/1`), await fetch(`${replica}/pkg/1`)];
    expect(pb.status).to.equal(200);
    expect(pb.headers.get('etag')).to.equal(pa.headers.get('etag'));
    expect(Buffer.from(await pb.arrayBuffer()).equals(Buffer.from(await pa.arrayBuffer()))).to.equal(true);
    const port = await api(replica, 'GET', '/port/hello');
    expect(port.status).to.equal(301);
    expect(port.headers.get('location')).to.equal('/pkg/1');
    const meta = await fetch(`${replica}/store/${portpkgDir(1)}/meta/status.json`);
    expect(meta.status).to.equal(200);
    expect(((await meta.json()) as any).state).to.equal('good');
    // writes belong to the primary
    expect((await api(replica, 'POST', '/api/v1/submit', 'x', s.adminToken)).status).to.equal(404);
  });

  it('serves a submission made on the primary within the fetch interval', async () => {
    const pkgid = await submit('1.1');
    const ms = await seen(pkgid, (INTERVAL + 3) * 1000);
    expect(ms).to.be.below((INTERVAL + 3) * 1000);
    expect((await api(replica, 'GET', '/port/hello')).headers.get('location')).to.equal(`/pkg/${pkgid}`);
    console.log(`      seen on the replica ${ms} ms after the primary's commit (interval ${INTERVAL} s)`);
  });

  it('fetches at once on POST /internal/replica/notify', async () => {
    const pkgid = await submit('1.2');
    const t0 = Date.now();
    const n = await api(replica, 'POST', '/internal/replica/notify');
    expect(n.status).to.equal(200);
    expect((await api(replica, 'GET', `/api/v1/pkg/${pkgid}`)).json.status.state).to.equal('good');
    console.log(`      notify → served in ${Date.now() - t0} ms`);
  });
});
