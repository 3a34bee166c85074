// Remote workers end to end: real redis-server, a server that only enqueues, two `morphux worker`
// processes with a worker account's token building hello in real VMs; each built once, one worker
// SIGKILLed mid-build and its job finished by the other, a late result of the dead attempt refused
// (409), every phase reported as BullMQ progress and shown on /builds, `store fsck` clean, each
// build's provenance naming the worker account and the VM images the worker reported.
import { expect } from 'chai';
import { QueueEvents } from 'bullmq';
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildProgress } from '../../src/builder/build-progress.js';
import { summarize } from '../../src/domain/provenance-check.js';
import { readUnverified } from '../../src/domain/provenance-statement.js';
import { queueName, redisJobId } from '../../src/builder/redis-queue.js';
import { packFixture, upload } from '../support/portpkgs.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { morphux } from '../support/server-process.js';
import { api, startTestServer, waitState, type TestServer } from '../support/test-server.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'morphux.ts');

interface WorkerProc {
  proc: ResultPromise;
  out: string;
}

/** pids of a process and all its descendants (QEMU runs in a process group of its own) */
async function tree(pid: number): Promise<number[]> {
  const r = await execa('ps', ['-e', '-o', 'pid=,ppid='], { reject: false });
  const kids = new Map<number, number[]>();
  for (const line of String(r.stdout).split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (p && pp) kids.set(pp, [...(kids.get(pp) ?? []), p]);
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(kids.get(all[i]) ?? []));
  return all;
}

describe('remote workers: BullMQ on redis, two `morphux worker` processes, real VMs', function () {
  this.timeout(900_000);
  let redis: TestRedis;
  let s: TestServer;
  let events: QueueEvents;
  /** the worker account's token (`morphux user add builders --worker`) */
  let workerToken: string;
  const progress = new Map<string, BuildProgress[]>();
  let workDirs: string[] = [];
  const workers: WorkerProc[] = [];

  const startWorker = async (): Promise<WorkerProc> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'morphux-worker-'));
    workDirs.push(dir);
    await writeFile(path.join(dir, 'morphux.yaml'), `queue: {kind: redis, url: "${redis.url}", lock_seconds: 6, stalled_check_seconds: 2}\nlog: {level: info}\n`);
    const proc = execa(process.execPath, ['--import', 'tsx', CLI, 'worker', '--data', dir, '--server', s.url, '--token', workerToken, '--arch', 'x86_64', '--concurrency', '1'], {
      detached: true, reject: false, stdin: 'ignore', buffer: false,
    });
    const w: WorkerProc = { proc, out: '' };
    proc.stdout?.on('data', (d: Buffer) => { w.out += d.toString(); });
    proc.stderr?.on('data', (d: Buffer) => { w.out += d.toString(); });
    workers.push(w);
    return w;
  };
  const killTree = async (w: WorkerProc) => {
    const pids = await tree(w.proc.pid!);
    for (const pid of pids.reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    try { process.kill(-w.proc.pid!, 'SIGKILL'); } catch { /* gone */ }
    await w.proc;
  };

  before(async () => {
    redis = await startRedis();
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `queue: {kind: redis, url: "${redis.url}", lock_seconds: 6, stalled_check_seconds: 2}\nbuilder: {embedded_worker: false}\n`);
    s = await startTestServer({ data });
    expect(s.ctx.worker).to.equal(null);
    workerToken = (await morphux(['user', 'add', 'builders', '--worker', '--data', data])).trim();
    const u = new URL(redis.url);
    events = new QueueEvents(queueName('x86_64'), { connection: { host: u.hostname, port: Number(u.port) } });
    await events.waitUntilReady();
    events.on('progress', ({ jobId, data: p }) => { progress.set(jobId, [...(progress.get(jobId) ?? []), p as BuildProgress]); });
  });
  after(async () => {
    await events?.close();
    for (const w of workers) await killTree(w).catch(() => {});
    await s?.close();
    await redis?.stop();
    for (const d of workDirs) await rm(d, { recursive: true, force: true });
  });

  it('builds each submission once across two workers; a worker killed mid-build loses nothing', async () => {
    const t0 = Date.now();
    const pkgids: number[] = [];
    for (const v of ['1.0.1', '1.0.2', '1.0.3']) {
      // each build lasts at least 12 s, so the worker killed 8 s into one is killed mid-build (a VM
      // started from the saved state builds plain hello in ~4 s)
      const r = await upload(s, await packFixture('hello', (p) => { p.version = v; p.build = ['sleep 12', ...p.build]; }), s.adminToken);
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
      pkgids.push(r.json.pkgid);
    }
    const [a, b] = [await startWorker(), await startWorker()];
    // the primary's /builds page lists remote builds with their phase (its queue reads the jobs from Redis)
    let buildsPage = '';
    const pagePoll = setInterval(() => {
      void fetch(`${s.url}/builds`).then((r) => r.text()).then((t) => { if (/class="progress">(booting|building)/.test(t)) buildsPage = t; }, () => {});
    }, 1000);
    // the first build to start: find its worker, let its VM run a while, then SIGKILL that worker
    let victim: WorkerProc | null = null;
    let victimPkgid = 0;
    const until = Date.now() + 120_000;
    while (!victim && Date.now() < until) {
      for (const w of [a, b]) {
        const m = /"pkgid":(\d+)[^\n]*"msg":"build started"/.exec(w.out);
        if (m) { victim = w; victimPkgid = Number(m[1]); break; }
      }
      if (!victim) await new Promise((r) => setTimeout(r, 500));
    }
    expect(victim, `no build started:\n${a.out}\n${b.out}`).to.not.equal(null);
    const building = await api(s.url, 'GET', `/api/v1/pkg/${victimPkgid}`);
    expect(building.json.status.state).to.equal('building');
    await new Promise((r) => setTimeout(r, 8000));
    const tKill = Date.now();
    await killTree(victim!);
    const survivor = victim === a ? b : a;
    // taken again by the survivor once its lock expires (after the build the survivor has in hand)
    let retakenAfter = 0;
    for (;;) {
      const st = (await api(s.url, 'GET', `/api/v1/pkg/${victimPkgid}`)).json.status;
      if (st.builds?.x86_64?.attempts === 2) { retakenAfter = (Date.now() - tKill) / 1000; break; }
      expect(Date.now() - tKill, `the dead worker's job was never taken again; the survivor said:\n${survivor.out.slice(-4000)}`).to.be.below(300_000);
      await new Promise((r) => setTimeout(r, 500));
    }

    await Promise.all(pkgids.map((id) => waitState(s.url, id, 600_000)));
    clearInterval(pagePoll);
    const seconds = (Date.now() - t0) / 1000;
    // read again once every build is recorded: GET /api/v1/pkg reads the working tree, where a
    // status.json can be seen a moment before the report written in the same store commit
    await new Promise((r) => setTimeout(r, 2000));
    const done = await Promise.all(pkgids.map(async (id) => (await api(s.url, 'GET', `/api/v1/pkg/${id}`)).json));
    for (const d of done) {
      expect(d.status.state, JSON.stringify(d.status)).to.equal('good');
      expect(d.reports, `pkgid ${d.submission.pkgid}: one builder report`).to.equal(1);
      expect(d.status.build.files).to.include('/usr/bin/hello');
    }
    const retaken = done.find((d) => d.submission.pkgid === victimPkgid)!;
    expect(retaken.status.builds.x86_64.attempts).to.equal(2);
    for (const d of done.filter((x) => x.submission.pkgid !== victimPkgid)) expect(d.status.builds.x86_64.attempts).to.equal(1);
    expect(survivor.out).to.match(new RegExp(`"pkgid":${victimPkgid}[^\\n]*"msg":"build finished"`));
    // a late result of the dead attempt is refused: the build belongs to attempt 2
    const form = new FormData();
    form.set('result', JSON.stringify({ pkgid: victimPkgid, arch: 'x86_64', attempt: 1, resolved: [], outcome: { state: 'failed', reason: 'build', message: 'stale', measurements: null, installed: [], phases: {} } }));
    const stale = await fetch(`${s.url}/internal/worker/finish`, { method: 'POST', body: form, headers: { authorization: `Bearer ${workerToken}` } });
    expect(stale.status).to.equal(409);
    expect(((await stale.json()) as any).error.code).to.equal('conflict');
    // the worker API wants a worker token: none is 401, an admin's is 403
    expect((await api(s.url, 'POST', '/internal/worker/claim', { pkgid: 1, arch: 'x86_64' })).status).to.equal(401);
    expect((await api(s.url, 'POST', '/internal/worker/claim', { pkgid: 1, arch: 'x86_64' }, s.adminToken)).status).to.equal(403);
    // every build reported its phases in order, the VM's from its console; the page showed one
    for (const id of pkgids) {
      const phases = (progress.get(redisJobId({ pkgid: id, arch: 'x86_64' })) ?? []).map((p) => p.phase);
      const last = phases.lastIndexOf('resolving'); // the retaken build: its second attempt
      expect(phases.slice(last).filter((p, i, all) => p !== all[i - 1]), `pkgid ${id}: ${phases.join(' ')}`)
        .to.deep.equal(['resolving', 'booting', 'building', 'installing', 'collecting', 'uploading']);
    }
    expect(buildsPage, 'the /builds page never showed a build\'s phase').to.match(/pkgid \d+<\/a> \(x86_64\) · <span class="progress">/);
    // the store agrees with itself, and the log of a remote build was recorded
    expect(await morphux(['store', 'fsck', '--data', s.data])).to.match(/^ok:/m);
    // each build's provenance (unsigned: this instance has no publishing key) names the worker
    // account that finished it and the VM images its worker reported through the worker protocol
    for (const id of pkgids) {
      const prov = await s.request(`/api/v1/pkg/${id}/provenance/x86_64`);
      expect(prov.status, `pkgid ${id}`).to.equal(200);
      const { statement, keyIds } = readUnverified(Buffer.from(await prov.arrayBuffer()));
      expect(keyIds).to.deep.equal([]);
      const sum = summarize(statement!);
      expect(sum.builder_id).to.equal(`${s.url}/builders/worker/builders`);
      for (const d of ['root_image', 'kernel', 'initrd'] as const) expect(sum.vm[d], `pkgid ${id} ${d}`).to.match(/^[0-9a-f]{64}$/);
      expect(Date.parse(sum.started_on!)).to.be.at.most(Date.parse(sum.finished_on!));
    }
    const log = await fetch(`${s.url}/api/v1/pkg/${victimPkgid}/log`);
    expect(await log.text()).to.match(/hello/i);
    console.log(`      3 builds, 2 workers, one killed ${((tKill - t0) / 1000).toFixed(1)} s in: its job taken again ${retakenAfter.toFixed(1)} s later, all good after ${seconds.toFixed(1)} s`);
  });
});
