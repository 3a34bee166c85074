// The internal worker API without a VM: worker accounts (`morphux user add NAME --worker`) whose
// tokens open /internal/worker/* and nothing else, users' and admins' tokens refused there; and a
// remote worker whose input download keeps failing: each failure is an infrastructure attempt,
// the build ends failed/infrastructure after builder.max_attempts, never queued again.
// /finish reads its body through the one limited reader: a chunked body past the limit is a 413
// while it arrives, not parsed after.
import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildWorker } from '../../src/builder/build-worker.js';
import { RedisQueue } from '../../src/builder/redis-queue.js';
import { RemoteBuildHost } from '../../src/builder/remote-build-host.js';
import { runnerFor } from '../../src/main/morphux-commands.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { cliErrorCode, runCli } from '../support/cli-bin.js';
import { fixtureRepo, git, pushUrl, remoteHead } from '../support/git-client.js';
import { packFixture, upload } from '../support/portpkgs.js';
import { rawChunkedFlood, watchingRss } from '../support/raw-chunked.js';
import { rawExchange } from '../support/raw-http.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { morphux } from '../support/server-process.js';
import { api, newUser, startTestServer, waitState, type TestServer } from '../support/test-server.js';


describe('internal worker API: worker tokens, bounded retries of a worker that cannot fetch its inputs', function () {
  this.timeout(120_000);
  let redis: TestRedis;
  let s: TestServer;
  let workerToken: string;
  let userToken: string;

  before(async () => {
    redis = await startRedis();
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `queue: {kind: redis, url: "${redis.url}", lock_seconds: 6, stalled_check_seconds: 2}\nbuilder: {embedded_worker: false, max_attempts: 2}\n`);
    s = await startTestServer({ data });
    workerToken = (await s.ctx.users.createWorker('builder1')).token;
    userToken = await newUser(s, 'alice');
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, userToken)).status).to.equal(201);
  });
  after(async () => {
    await s?.close();
    await redis?.stop();
  });

  const claim = (token?: string) => api(s.url, 'POST', '/internal/worker/claim', { pkgid: 999, arch: 'x86_64' }, token);

  it('accepts a worker token on the worker API, and refuses users\', admins\' and no tokens', async () => {
    const ok = await claim(workerToken);
    expect(ok.status).to.equal(200);
    expect(ok.json).to.deep.equal({ claimed: false }); // no such submission: nothing to build
    for (const [token, status] of [[userToken, 403], [s.adminToken, 403], [undefined, 401], ['mpx_not-a-token-at-all', 401]] as const) {
      const r = await claim(token);
      expect(r.status, String(token)).to.equal(status);
      expect(r.json.error.code).to.equal(status === 403 ? 'forbidden' : 'unauthenticated');
    }
    const bin = await fetch(`${s.url}/internal/worker/binaries/1/x86_64`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(bin.status).to.equal(403);
  });

  it('refuses a worker token everywhere else: API writes, git push, the website; nothing changes', async () => {
    const before = await s.ctx.store.head();
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'fromworker' }, workerToken)).status).to.equal(403);
    expect((await upload(s, await packFixture('hello'), workerToken)).status).to.equal(403);
    expect((await api(s.url, 'POST', '/api/v1/tokens', { name: 'more' }, workerToken)).status).to.equal(403);
    expect((await api(s.url, 'POST', '/api/v1/users', { name: 'eve', admin: true }, workerToken)).status).to.equal(403);
    expect((await api(s.url, 'GET', '/api/v1/me', undefined, workerToken)).status).to.equal(403);
    expect((await api(s.url, 'GET', '/api/v1/ports/fromworker')).status).to.equal(404);
    // git: the receive-pack advertisement is refused before git runs, and a real push fails
    const basic = `Basic ${Buffer.from(`builder1:${workerToken}`).toString('base64')}`;
    const adv = await fetch(`${s.url}/hello.git/info/refs?service=git-receive-pack`, { headers: { authorization: basic } });
    expect(adv.status).to.equal(403);
    const wc = await fixtureRepo('hello');
    try {
      const push = await git(wc, 'push', pushUrl(s.url, 'hello', 'builder1', workerToken), 'HEAD:refs/heads/version-1.0');
      expect(push.code).to.not.equal(0);
      expect(await remoteHead(s.url, 'hello', 'version-1.0')).to.equal('');
    } finally {
      await rm(wc, { recursive: true, force: true });
    }
    // the website's sign-in
    const signIn = await fetch(`${s.url}/sign-in`, { method: 'POST', body: new URLSearchParams({ user: 'builder1', token: workerToken }), redirect: 'manual' });
    expect(signIn.status).to.equal(403);
    expect(signIn.headers.get('set-cookie')).to.equal(null);
    expect(await s.ctx.store.head()).to.equal(before);
  });

  it('makes worker accounts with `morphux user add --worker` and POST /api/v1/users {worker: true}', async () => {
    const token = (await morphux(['user', 'add', 'builder2', '--worker', '--data', s.data])).trim();
    expect((await claim(token)).status).to.equal(200);
    const both = await runCli('morphux', ['user', 'add', 'builder3', '--worker', '--admin', '--data', s.data]);
    expect(cliErrorCode(both), both.err).to.equal('bad_request');
    expect(await s.ctx.users.get('builder3')).to.equal(null);
    const made = await api(s.url, 'POST', '/api/v1/users', { name: 'builder4', worker: true }, s.adminToken);
    expect(made.status).to.equal(201);
    expect(made.json).to.include({ name: 'builder4', admin: false, worker: true });
    expect((await claim(made.json.token)).status).to.equal(200);
    expect((await api(s.url, 'POST', '/api/v1/users', { name: 'builder5', worker: true, admin: true }, s.adminToken)).status).to.equal(400);
    // a worker account maintains nothing
    const repo = await runCli('morphux', ['repo', 'create', 'byworker', '--maintainer', 'builder2', '--data', s.data]);
    expect(cliErrorCode(repo), repo.err).to.equal('forbidden');
    expect(await s.ctx.owners.get('byworker')).to.equal(null);
  });

  it('counts each failed input download as an infrastructure attempt and fails the build after max_attempts', async () => {
    // the worker reaches the server through a proxy that fails every portpkg download
    let pkgGets = 0;
    const upstream = new URL(s.url);
    const proxy: Server = createServer((req, res) => {
      if (req.method === 'GET' && /^\/pkg\/\d+$/.test(req.url ?? '')) {
        pkgGets++;
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'infrastructure', message: 'proxy: unavailable' } }));
        return;
      }
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-worker-'));
    const config = loadConfig({ data: dir });
    const queue = new RedisQueue({ url: redis.url, arches: ['x86_64'], log: silentLogger, lockMs: 6000, stalledCheckMs: 2000 });
    const worker = new BuildWorker({
      queue, runner: runnerFor(config, silentLogger), config, log: silentLogger, tmpDir: dir,
      host: new RemoteBuildHost({ server: proxyUrl, token: workerToken, log: silentLogger }),
    });
    try {
      const r = await upload(s, await packFixture('hello', (p) => { p.version = '2.0'; }), userToken);
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
      const pkgid = r.json.pkgid as number;
      worker.start();
      const done = await waitState(s.url, pkgid, 60_000);
      expect(done.status.state).to.equal('failed');
      expect(done.status.reason).to.equal('infrastructure');
      expect(done.status.builds.x86_64).to.include({ state: 'failed', reason: 'infrastructure', attempts: 2 });
      expect(done.reports).to.equal(1);
      expect(pkgGets).to.equal(2);
      const log = await (await fetch(`${s.url}/api/v1/pkg/${pkgid}/log`)).text();
      expect(log).to.match(/cannot fetch the build's inputs/);
      // not queued again: no third attempt
      await new Promise((res) => setTimeout(res, 4000));
      expect(pkgGets).to.equal(2);
      expect((await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json.status.builds.x86_64.attempts).to.equal(2);
      expect((await s.ctx.store.locked(() => fsckStore(s.ctx.store))).problems).to.deep.equal([]);
    } finally {
      await worker.close();
      await queue.close();
      await new Promise((r) => proxy.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('internal worker API: /finish reads its body within the limit, declared or chunked', function () {
  this.timeout(120_000);
  let s: TestServer;
  let workerToken: string;
  /** server.body_limit_bytes + builder.log_max_bytes: what /finish takes at most */
  const limit = 1024 * 1024 + 64 * 1024;

  before(async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), 'server: {body_limit_bytes: 1048576}\nbuilder: {embedded_worker: false, log_max_bytes: 65536}\n');
    s = await startTestServer({ data });
    workerToken = (await s.ctx.users.createWorker('builder1')).token;
  });
  after(async () => s?.close());

  const head = (extra = '') => `POST /internal/worker/finish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${workerToken}\r\nContent-Type: multipart/form-data; boundary=xyz\r\nConnection: close\r\n${extra}`;

  it('refuses a chunked body of 80 MiB (no Content-Length) with 413 too_large, without holding it', async () => {
    const before = await s.ctx.store.head();
    const { result: r, growth } = await watchingRss(() => rawChunkedFlood(s.url, head(), 80 * 1024 * 1024));
    expect(r.status, JSON.stringify(r.json)).to.equal(413);
    expect(r.json?.error?.code).to.equal('too_large');
    expect(r.sentBytes, 'the server answered before the whole body').to.be.below(80 * 1024 * 1024);
    expect(growth, 'RSS growth while the body was sent').to.be.below(48 * 1024 * 1024);
    expect(await s.ctx.store.head()).to.equal(before);
  });

  it('refuses a declared Content-Length over the limit with 413 too_large, before reading', async () => {
    const r = await rawExchange(s.url, [`${head(`Content-Length: ${limit + 1}\r\n`)}\r\n`]);
    expect(r.status, JSON.stringify(r.json)).to.equal(413);
    expect(r.json?.error?.code).to.equal('too_large');
  });

  it('answers a body that is not a multipart form with 400 bad_request', async () => {
    const res = await fetch(`${s.url}/internal/worker/finish`, { method: 'POST', headers: { authorization: `Bearer ${workerToken}`, 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'not a form' });
    expect(res.status).to.equal(400);
    expect((await res.json()).error.code).to.equal('bad_request');
  });
});
