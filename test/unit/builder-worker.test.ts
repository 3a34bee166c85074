// The build worker's orchestration with a VM runner double (no QEMU): infrastructure retries,
// per-arch status with the overall state good only when every arch is, dependencies resolved before
// any VM starts, and at most builder.concurrency VMs at once.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { LocalBuildHost } from '../../src/service/builds/local-build-host.js';
import { BuildWorker } from '../../src/builder/build-worker.js';
import type { BuildJob, BuildOutcome, VmRunner } from '../../src/builder/vm/vm-types.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { parseManifest } from '../../src/domain/manifest.js';
import { type AppContext } from '../../src/service/app-context.js';
import { openContext } from '../../src/main/open-instance.js';
import { eligibleCandidates } from '../../src/service/eligible-candidates.js';
import { createSubmission } from '../../src/store/changes/create-submission.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import type { SubmissionStatus } from '../../src/domain/submission.js';

type Script = (job: BuildJob, call: number) => Promise<Partial<BuildOutcome> | 'good'>;

/** A VmRunner that records its calls and answers from a script. */
class RunnerDouble implements VmRunner {
  calls: BuildJob[] = [];
  running = 0;
  maxRunning = 0;
  constructor(private readonly script: Script = async () => 'good') {}
  async run(job: BuildJob): Promise<BuildOutcome> {
    this.calls.push(job);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const logFile = path.join(job.workDir, 'build.log');
      await writeFile(logFile, `log of ${job.pkgid} ${job.arch}\n`);
      job.onLog?.(Buffer.from(`building ${job.pkgid}\n`));
      const r = await this.script(job, this.calls.length);
      if (r !== 'good') return { state: 'failed', reason: 'build', message: 'failed', logFile, measurements: null, binariesArchive: null, installed: [], phases: {}, ...r };
      const binariesArchive = path.join(job.workDir, 'b.tar.gz');
      await writeFile(path.join(job.workDir, 'marker'), job.arch);
      await create({ gzip: true, file: binariesArchive, cwd: job.workDir }, ['marker']);
      return {
        state: 'good', reason: null, message: 'built', logFile, binariesArchive, phases: {},
        installed: [{ path: '/marker', type: 'file', size: 6, mode: 0o644, sha256: '0'.repeat(64) }],
        measurements: { arch: job.arch, installed_size: 6, compile_seconds: 1, files: ['/marker'], modified_files: [], binaries: [] },
      };
    } finally {
      this.running--;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BuildWorker (runner double)', () => {
  let data: string;
  let ctx: AppContext;
  let worker: BuildWorker | null;

  async function setup(builder: Record<string, unknown>, runner: VmRunner): Promise<void> {
    data = await mkdtemp(path.join(tmpdir(), 'builder-worker-'));
    await writeFile(path.join(data, 'morphux.yaml'), JSON.stringify({ builder }));
    const config = loadConfig({ data });
    ctx = await openContext(config, silentLogger);
    await ctx.users.create('alice', true);
    const host = new LocalBuildHost({
      store: ctx.store, liveLogs: ctx.liveLogs, candidates: (name) => eligibleCandidates(ctx, name),
      arches: config.builder.arches, maxAttempts: config.builder.max_attempts, log: silentLogger, retryDelayMs: 10,
    });
    worker = new BuildWorker({ queue: ctx.queue, runner, config, log: silentLogger, host, tmpDir: ctx.layout.tmp, retryDelayMs: 10 });
    worker.start();
  }

  async function submit(manifest: Record<string, unknown>): Promise<number> {
    const dir = await mkdtemp(path.join(data, 'tmp', 'pkg-'));
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ build: ['true'], install: ['true'], ...manifest }));
    await create({ gzip: true, file: path.join(dir, '..', `${path.basename(dir)}.tgz`), cwd: dir }, ['package.json']);
    const tgz = await readFile(path.join(dir, '..', `${path.basename(dir)}.tgz`));
    const info = await createSubmission(ctx.store, {
      manifest: parseManifest(JSON.stringify({ build: ['true'], ...manifest })), submitter: 'alice', submitterRole: 'admin', source: { type: 'upload', filename: null }, tgz,
    });
    for (const arch of ctx.config.builder.arches) await ctx.queue.enqueue({ pkgid: info.pkgid, arch });
    return info.pkgid;
  }

  const status = (pkgid: number) => ctx.store.readJson<SubmissionStatus>(storePaths.status(pkgid)) as Promise<SubmissionStatus>;
  async function settled(pkgid: number, ms = 40_000): Promise<SubmissionStatus> {
    for (const until = Date.now() + ms; Date.now() < until; await sleep(20)) {
      // status.json is written before its commit ends: wait for the worker to be idle too
      const s = await status(pkgid);
      const idle = (await ctx.queue.running()).length === 0 && (await ctx.queue.waiting()).length === 0;
      if ((s.state === 'good' || s.state === 'failed') && idle) return status(pkgid);
    }
    throw new Error(`pkg ${pkgid} not settled`);
  }

  afterEach(async () => {
    await worker?.close();
    worker = null;
    await rm(data, { recursive: true, force: true });
  });

  it('retries a VM that died without a result, then records the good build (no blame, one report)', async () => {
    const infra = { reason: 'infrastructure' as const, message: 'the VM wrote no result' };
    const runner = new RunnerDouble(async (_j, n) => (n < 3 ? infra : 'good'));
    await setup({}, runner);
    const s = await settled(await submit({ name: 'hello', version: '1.0' }));
    expect(s.state).to.equal('good');
    expect(s.reason).to.equal(null);
    expect(runner.calls).to.have.length(3);
    expect(s.builds!.x86_64!.attempts).to.equal(3);
    expect(s.attempts).to.equal(3);
    expect(existsSync(ctx.store.abs(storePaths.report(1, 1)))).to.equal(true);
    expect(existsSync(ctx.store.abs(storePaths.report(1, 2)))).to.equal(false);
  });

  it('gives up after max_attempts with reason infrastructure, never build', async () => {
    const runner = new RunnerDouble(async () => ({ reason: 'infrastructure', message: 'QEMU died' }));
    await setup({ max_attempts: 2 }, runner);
    const s = await settled(await submit({ name: 'hello', version: '1.0' }));
    expect(s.state).to.equal('failed');
    expect(s.reason).to.equal('infrastructure');
    expect(runner.calls).to.have.length(2);
  });

  it('builds every configured arch; good only when each is, with builds[arch] and binaries/<arch>/', async () => {
    let releaseArm!: () => void;
    const armGate = new Promise<void>((r) => { releaseArm = r; });
    const runner = new RunnerDouble(async (j) => { if (j.arch === 'aarch64') await armGate; return 'good'; });
    await setup({ arches: ['x86_64', 'aarch64'], concurrency: 2 }, runner);
    const pkgid = await submit({ name: 'hello', version: '1.0' });
    for (const until = Date.now() + 5000; (await status(pkgid)).builds?.x86_64?.state !== 'good' && Date.now() < until;) await sleep(20);
    const mid = await status(pkgid);
    expect(mid.builds!.x86_64!.state).to.equal('good');
    expect(mid.state).to.equal('building');
    releaseArm();
    const s = await settled(pkgid);
    expect(s.state).to.equal('good');
    expect(Object.keys(s.builds!)).to.have.members(['x86_64', 'aarch64']);
    expect(s.build!.arch).to.equal('x86_64');
    expect(s.builds!.aarch64!.build!.arch).to.equal('aarch64');
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const manifest = JSON.parse(await readFile(ctx.store.abs(`${storePaths.binaries(pkgid, arch)}/manifest.json`), 'utf8'));
      expect(manifest.arch).to.equal(arch);
      expect(existsSync(ctx.store.abs(`${storePaths.binaries(pkgid, arch)}/files.tar.gz`))).to.equal(true);
    }
  });

  it('fails the submission when one arch fails, naming the arch, and skips the arches still queued', async () => {
    const runner = new RunnerDouble(async (_j, n) => (n === 1 ? { reason: 'build', message: 'make failed' } : 'good'));
    await setup({ arches: ['x86_64', 'aarch64'] }, runner);
    const s = await settled(await submit({ name: 'hello', version: '1.0' }));
    const first = runner.calls[0].arch;
    expect(s.state).to.equal('failed');
    expect(s.reason).to.equal('build');
    expect(s.message!.startsWith(`${first}:`)).to.equal(true);
    expect(s.builds![first]!.state).to.equal('failed');
    await sleep(300);
    expect(runner.calls).to.have.length(1); // the other arch's job found the submission failed
  });

  it('resolves dependencies before any VM: installs the good one, fails a missing one with dependency', async () => {
    const runner = new RunnerDouble();
    await setup({}, runner);
    const lib = await submit({ name: 'libgreet', version: '1.2' });
    expect((await settled(lib)).state).to.equal('good');
    const prog = await submit({ name: 'greet', version: '1.0', dependencies: { libgreet: '>=1 <2' } });
    const s = await settled(prog);
    expect(s.state).to.equal('good');
    expect(s.builds!.x86_64!.resolved_dependencies).to.deep.equal([lib]);
    expect(runner.calls.at(-1)!.dependencies.map((d) => [d.pkgid, path.basename(d.archive)])).to.deep.equal([[lib, 'files.tar.gz']]);
    const calls = runner.calls.length;
    const bad = await settled(await submit({ name: 'greet2', version: '1.0', build_dependencies: { libgreet: '>=2' } }));
    expect(bad.reason).to.equal('dependency');
    expect(bad.message).to.include('libgreet');
    const none = await settled(await submit({ name: 'greet3', version: '1.0', dependencies: { nosuchlib: '*' } }));
    expect(none.reason).to.equal('dependency');
    expect(none.message).to.include('nosuchlib');
    expect(runner.calls.length).to.equal(calls);
  });

  it('fails with dependency when a good dependency has no binaries for the arch being built', async () => {
    const runner = new RunnerDouble();
    await setup({}, runner);
    const lib = await submit({ name: 'libgreet', version: '1.2' });
    expect((await settled(lib)).state).to.equal('good');
    await rm(ctx.store.abs(storePaths.binaries(lib, 'x86_64')), { recursive: true }); // as if built before x86_64 was configured
    const s = await settled(await submit({ name: 'greet', version: '1.0', dependencies: { libgreet: '*' } }));
    expect(s.reason).to.equal('dependency');
    expect(runner.calls).to.have.length(1);
  });

  for (const concurrency of [1, 2]) {
    it(`runs at most ${concurrency} VM(s) at once (builder.concurrency ${concurrency})`, async () => {
      // each run lasts long enough for the next job's status commit to start another VM
      const runner = new RunnerDouble(async () => { await sleep(2000); return 'good'; });
      await setup({ concurrency }, runner);
      const ids = [];
      for (const n of ['a', 'b', 'c']) ids.push(await submit({ name: n, version: '1.0' }));
      for (const id of ids) expect((await settled(id)).state).to.equal('good');
      expect(runner.maxRunning).to.equal(concurrency);
    });
  }
});
