// The rebuild check through the whole system: real server (builder.rebuild: every), real git
// pushes, real VMs. hello is reproducible (its binaries archive is the same bytes too); build-stamp
// installs the time it was built at and is not, its differing files listed with both digests.
// The verdict is in status.json (API), on the submission page, in the package's submissions and a
// filter of the package list; the build's own state, binaries, manifest and provenance stay as the
// build left them. `morphux rebuild PKGID` runs the check again on demand, and refuses a
// submission that is not good (one line, not_rebuildable, exit 1); the store still checks clean.
// Then the same on the Redis queue with a remote worker (the worker protocol): the check is a
// job of the same queue, its verdict recorded by the server.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildWorker } from '../../src/builder/build-worker.js';
import { RedisQueue } from '../../src/builder/redis-queue.js';
import { RemoteBuildHost } from '../../src/builder/remote-build-host.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { runnerFor } from '../../src/main/morphux-commands.js';
import { fsckStore } from '../../src/store/layout/fsck-store.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { bundleClis, cliErrorCode, expectOneLine, runCli } from '../support/cli-bin.js';
import { pushFixture } from '../support/git-client.js';
import { api, newUser, startTestServer, waitState, type TestServer } from '../support/test-server.js';

describe('the rebuild check on every build (hello reproducible, build-stamp not)', function () {
  this.timeout(600_000);
  let s: TestServer;
  let alice: string;
  let hello = 0;
  let stamp = 0;
  let broken = 0;
  const views: Record<number, any> = {};

  /** Polls GET /api/v1/pkg/N until the rebuild check has a verdict (or failed); the view. */
  async function waitVerdict(pkgid: number, timeoutMs = 300_000, after = ''): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json;
      const r = v?.status?.builds?.x86_64?.rebuild;
      if ((r?.state === 'done' || r?.state === 'failed') && (r.checked_at ?? '') > after) return v;
      if (Date.now() > until) throw new Error(`pkg ${pkgid}: no rebuild verdict after ${timeoutMs} ms: ${JSON.stringify(v?.status)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  /** The commits that touched a path of the store. */
  const commitsOf = async (p: string) => (await execa('git', ['log', '--format=%H', '--', p], { cwd: s.ctx.layout.store })).stdout.split('\n').filter(Boolean);
  const morphux = (args: string[]) => runCli('morphux', [...args, '--data', s.data], { env: { HOME: process.env.HOME ?? '/root', ...(process.env.MORPHUX_IMAGE_DIR ? { MORPHUX_IMAGE_DIR: process.env.MORPHUX_IMAGE_DIR } : {}) } });

  before(async () => {
    s = await startTestServer({ worker: true, rebuild: 'every' });
    alice = await newUser(s, 'alice');
    for (const name of ['hello', 'build-stamp', 'broken-c']) expect((await api(s.url, 'POST', '/api/v1/repos', { name }, alice)).status).to.equal(201);
    await bundleClis();
  });
  after(async () => s && (await s.close()));

  it('builds both, then checks each by a rebuild in another VM: hello reproducible, build-stamp not', async () => {
    hello = await pushFixture(s.url, 'hello', '1.0', 'alice', alice);
    stamp = await pushFixture(s.url, 'build-stamp', '1.0', 'alice', alice);
    for (const pkgid of [hello, stamp]) {
      const good = await waitState(s.url, pkgid, 300_000);
      expect(good.status.state, JSON.stringify(good.status)).to.equal('good');
      const t0 = Date.now();
      views[pkgid] = await waitVerdict(pkgid);
      const r = views[pkgid].status.builds.x86_64.rebuild;
      console.log(`      pkgid ${pkgid}: verdict ${views[pkgid].status.reproducible} ${((Date.now() - t0) / 1000).toFixed(1)} s after good was seen; rebuild attempts ${r.attempts}`);
    }

    const h = views[hello].status;
    expect(h.state).to.equal('good');
    expect(h.reproducible).to.equal(true);
    expect(h.builds.x86_64.rebuild).to.include({ state: 'done', reproducible: true, differences_total: 0 });
    expect(h.builds.x86_64.rebuild.differences).to.deep.equal([]);
    // the archives themselves are the same bytes: sorted, mtimes clamped to SOURCE_DATE_EPOCH, owner 0, gzip without a time
    const sums = h.builds.x86_64.rebuild.binaries_sha256;
    expect(sums.first).to.match(/^[0-9a-f]{64}$/);
    expect(sums.second).to.equal(sums.first);
    // the rebuild ran with another environment, the same SOURCE_DATE_EPOCH (the commit's time)
    const env = h.builds.x86_64.rebuild.environment;
    expect(env).to.include({ tz: 'GMT-14', umask: '0002', hostname: 'morphux-rebuild' });
    expect(env.clock_shift_seconds).to.be.greaterThan(365 * 86400);
    const commitTime = Number((await execa('git', ['--git-dir', `${s.ctx.layout.repos}/hello.git`, 'show', '-s', '--format=%ct', views[hello].submission.source.commit])).stdout);
    expect(env.source_date_epoch).to.equal(commitTime);

    const b = views[stamp].status;
    expect(b.state).to.equal('good');
    expect(b.reproducible).to.equal(false);
    const r = b.builds.x86_64.rebuild;
    expect(r).to.include({ state: 'done', reproducible: false });
    const paths = r.differences.map((d: any) => d.path);
    expect(paths).to.include('/usr/share/build-stamp/built-at');
    expect(paths).to.not.include('/usr/share/build-stamp/README');
    const builtAt = r.differences.find((d: any) => d.path === '/usr/share/build-stamp/built-at');
    expect(builtAt.first.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(builtAt.second.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(builtAt.second.sha256).to.not.equal(builtAt.first.sha256);
    // mkdir under umask 0002: the folder's mode differs too
    const folder = r.differences.find((d: any) => d.path === '/usr/share/build-stamp');
    expect(folder && [folder.first.mode, folder.second.mode]).to.deep.equal(['0755', '0775']);
  });

  it('never touches the build: its binaries, manifest and provenance keep the good build\'s one commit', async () => {
    for (const pkgid of [hello, stamp]) {
      const dir = storePaths.binaries(pkgid, 'x86_64');
      const [archive, manifest, provenance] = await Promise.all(['files.tar.gz', 'manifest.json', 'provenance.dsse.json'].map((f) => commitsOf(`${dir}/${f}`)));
      expect(archive).to.have.length(1);
      expect(manifest).to.deep.equal(archive);
      expect(provenance).to.deep.equal(archive);
      // the verdict is a later commit of status.json
      const status = await commitsOf(storePaths.status(pkgid));
      expect(status[0]).to.not.equal(archive[0]);
    }
  });

  it('?reproducible= filters the package list; a bad value is a 400 with its code', async () => {
    const names = async (q: string) => (await api(s.url, 'GET', `/api/v1/ports?reproducible=${q}`)).json.items.map((i: any) => i.name);
    expect(await names('false')).to.deep.equal(['build-stamp']);
    expect(await names('true')).to.deep.equal(['hello']);
    expect(await names('unchecked')).to.deep.equal([]);
    const bad = await api(s.url, 'GET', '/api/v1/ports?reproducible=maybe');
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal('bad_request');
    const pkg = await api(s.url, 'GET', '/api/v1/ports/build-stamp');
    expect(pkg.json.submissions[0]).to.include({ pkgid: stamp, reproducible: false });
  });

  it('the submission page shows the verdict and the differing files with both digests', async () => {
    const page = await (await s.request(`/submissions/${stamp}`)).text();
    expect(page).to.contain('data-reproducible="false"');
    const r = views[stamp].status.builds.x86_64.rebuild;
    const builtAt = r.differences.find((d: any) => d.path === '/usr/share/build-stamp/built-at');
    expect(page).to.contain('/usr/share/build-stamp/built-at').and.contain(builtAt.first.sha256).and.contain(builtAt.second.sha256);
    expect(await (await s.request(`/submissions/${hello}`)).text()).to.contain('data-reproducible="true"');
    expect(await (await s.request('/packages?reproducible=false')).text()).to.contain('build-stamp').and.not.contain('href="/packages/hello"');
  });

  it('morphux rebuild PKGID runs the check again now, the server sees its verdict; a submission that is not good is refused', async () => {
    const before = views[hello].status.builds.x86_64.rebuild.checked_at;
    const t0 = Date.now();
    const run = await morphux(['rebuild', String(hello)]);
    console.log(`      morphux rebuild ${hello}: exit ${run.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(run.code, run.err + run.out).to.equal(0);
    expect(run.out).to.match(new RegExp(`pkgid ${hello} x86_64: reproducible`));
    const again = await waitVerdict(hello, 30_000, before);
    expect(again.status).to.include({ state: 'good', reproducible: true });

    const json = await morphux(['rebuild', `${s.url}/pkg/${stamp}`, '--json']);
    expect(json.code).to.equal(1);
    const out = JSON.parse(json.out);
    expect(out.reproducible).to.equal(false);
    expect(out.rebuilds.x86_64.differences.map((d: any) => d.path)).to.include('/usr/share/build-stamp/built-at');

    broken = await pushFixture(s.url, 'broken-c', '1.0', 'alice', alice);
    expect((await waitState(s.url, broken, 300_000)).status.state).to.equal('failed');
    const refused = await morphux(['rebuild', String(broken)]);
    expect(refused.code).to.equal(1);
    expectOneLine(refused.err);
    expect(cliErrorCode(refused)).to.equal('not_rebuildable');
    // a failed build got no check
    expect((await api(s.url, 'GET', `/api/v1/pkg/${broken}`)).json.status.reproducible).to.equal('unchecked');
    expect(cliErrorCode(await morphux(['rebuild', '999']))).to.equal('not_found');

    const fsck = await morphux(['store', 'fsck']);
    expect(fsck.code, fsck.out).to.equal(0);
  });
});

describe('the rebuild check on the Redis queue, by a remote worker', function () {
  this.timeout(300_000);
  let redis: TestRedis;
  let s: TestServer;
  let dir: string;

  before(async () => {
    redis = await startRedis();
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `queue: {kind: redis, url: "${redis.url}", lock_seconds: 10, stalled_check_seconds: 2}\nbuilder: {embedded_worker: false}\n`);
    s = await startTestServer({ data, rebuild: 'every' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-worker-'));
  });
  after(async () => {
    await s?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a worker on another machine builds hello, then takes its rebuild job from the same queue; the server records the verdict', async () => {
    const alice = await newUser(s, 'alice');
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, alice)).status).to.equal(201);
    const config = loadConfig({ data: dir });
    const queue = new RedisQueue({ url: redis.url, arches: ['x86_64'], log: silentLogger, lockMs: 10_000, stalledCheckMs: 2000 });
    const worker = new BuildWorker({
      queue, runner: runnerFor(config, silentLogger), config, log: silentLogger, tmpDir: dir,
      host: new RemoteBuildHost({ server: s.url, token: (await s.ctx.users.createWorker('builder1')).token, log: silentLogger }),
    });
    try {
      worker.start();
      const pkgid = await pushFixture(s.url, 'hello', '1.0', 'alice', alice);
      expect((await waitState(s.url, pkgid, 240_000)).status.state).to.equal('good');
      const until = Date.now() + 120_000;
      let v: any;
      do {
        await new Promise((r) => setTimeout(r, 500));
        v = (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json;
      } while (v.status.builds.x86_64.rebuild?.state !== 'done' && Date.now() < until);
      const r = v.status.builds.x86_64.rebuild;
      expect(v.status).to.include({ state: 'good', reproducible: true });
      expect(r).to.include({ state: 'done', reproducible: true, attempts: 1 });
      // the worker sent the archive's sha256 alone: the same bytes as the build's
      expect(r.binaries_sha256.second).to.equal(r.binaries_sha256.first);
      // the build's log is still the one GET /api/v1/pkg/N/log gives (the rebuild's is not kept)
      expect(await (await fetch(`${s.url}/api/v1/pkg/${pkgid}/log`)).text()).to.not.contain('fr_CH'); // the rebuild's locale warnings
      expect((await s.ctx.store.locked(() => fsckStore(s.ctx.store))).problems).to.deep.equal([]);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
