// A read replica (`morphux replica` as its own process) of a real primary: it clones store.git,
// serves /pkg, /port, /store and the read API from its clone, picks up a submission made on the
// primary within its fetch interval, at once after POST /internal/replica/notify (a flood of them
// rate-limited), and, with an interval of an hour, within seconds because the primary notifies it.
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portpkgDir } from '../../src/store/layout/store-paths.js';
import { goodSubmission } from '../support/portpkgs.js';
import { freePort } from '../support/server-process.js';
import { api, startTestServer, type TestServer } from '../support/test-server.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'morphux.ts');
const INTERVAL = 2;

interface ReplicaProc {
  url: string;
  dir: string;
  proc: ResultPromise;
}

/** `morphux replica` on a given port, started and answering. */
async function startReplicaProc(upstream: string, port: number, interval: number): Promise<ReplicaProc> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-replica-'));
  const url = `http://127.0.0.1:${port}`;
  const proc = execa(process.execPath, ['--import', 'tsx', CLI, 'replica', '--upstream', upstream, '--data', dir, '--host', '127.0.0.1', '--port', String(port), '--interval', String(interval)], {
    detached: true, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore',
  });
  const until = Date.now() + 60_000;
  for (;;) {
    try { if ((await fetch(`${url}/api/v1/ports`)).status === 200) break; } catch { /* not yet */ }
    if (Date.now() > until || proc.exitCode !== null) throw new Error('morphux replica did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, dir, proc };
}

async function stopReplicaProc(r: ReplicaProc | undefined): Promise<void> {
  if (!r) return;
  if (r.proc.pid) { try { process.kill(-r.proc.pid, 'SIGTERM'); } catch { /* gone */ } await r.proc; }
  await rm(r.dir, { recursive: true, force: true });
}

describe('read replica: a clone of store.git serving the read routes', function () {
  this.timeout(120_000);
  let s: TestServer;
  let replica: string;
  let first: ReplicaProc;
  /** a replica that fetches once an hour: what it serves soon after a commit, the primary's notification brought */
  let notified: ReplicaProc;
  let notifiedPort: number;

  const submit = (version: string) => goodSubmission(s, s.adminToken, 'hello', version);
  const seen = async (pkgid: number, ms: number, on = replica): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      // a sync is a git reset: done once the status and the query URL both show it
      const st = (await api(on, 'GET', `/api/v1/pkg/${pkgid}`)).json?.status?.state;
      if (st === 'good' && (await api(on, 'GET', '/port/hello')).headers.get('location') === `/pkg/${pkgid}`) return Date.now() - t0;
      if (Date.now() - t0 > ms) throw new Error(`pkgid ${pkgid} not on the replica after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    // the primary tells the second replica after each commit: its port is chosen before either starts
    notifiedPort = await freePort();
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `replica: {notify: ["http://127.0.0.1:${notifiedPort}"]}\n`);
    s = await startTestServer({ data });
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, s.adminToken)).status).to.equal(201);
    await submit('1.0');
    first = await startReplicaProc(s.url, await freePort(), INTERVAL);
    replica = first.url;
    notified = await startReplicaProc(s.url, notifiedPort, 3600);
  });
  after(async () => {
    await stopReplicaProc(first);
    await stopReplicaProc(notified);
    await s?.close();
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

  it('rate-limits notifications: a flood of 30 costs a few fetches, each caller answered once up to date', async () => {
    const before = (await api(replica, 'GET', '/internal/replica/status')).json.fetches as number;
    const t0 = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => api(replica, 'POST', '/internal/replica/notify')));
    for (const a of answers) expect(a.status).to.equal(200);
    const fetches = (await api(replica, 'GET', '/internal/replica/status')).json.fetches - before;
    const seconds = (Date.now() - t0) / 1000;
    // one fetch per second at most (the interval timer may add one); without the limit: 30
    expect(fetches).to.be.within(1, Math.ceil(seconds) + 2);
    console.log(`      30 notifications → ${fetches} fetches in ${seconds.toFixed(1)} s`);
  });

  it('is notified by the primary after a commit: an hour-long interval, served within seconds', async () => {
    const status = async () => (await api(notified.url, 'GET', '/internal/replica/status')).json as { head: string; fetches: number };
    const pkgid = await submit('1.3');
    const ms = await seen(pkgid, 10_000, notified.url);
    // the interval fetch (3600 s) cannot have brought it: every fetch came from a notification
    expect(ms).to.be.below(10_000);
    // the sync that brought it ends by recording the primary's head
    const head = await s.ctx.store.head();
    let st = await status();
    for (const until = Date.now() + 5000; st.head !== head && Date.now() < until; st = await status()) await new Promise((r) => setTimeout(r, 100));
    expect(st.head).to.equal(head);
    expect(st.fetches).to.be.greaterThan(0);
    console.log(`      seen on the notified replica ${ms} ms after submit returned (interval 3600 s)`);
  });
});
