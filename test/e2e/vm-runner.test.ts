// The VM runner end to end: real QEMU VMs (TCG here) building fixture packages from
// test/fixtures: a good build with measurements, a dependency installed into the VM, a failing
// build, and a build killed at its time limit, or when its log stays silent too long, with no QEMU
// process left behind.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { parseManifest } from '../../src/domain/manifest.js';
import { ensureImage } from '../../src/builder/vm/base-image.js';
import { QemuRunner } from '../../src/builder/vm/qemu-runner.js';
import type { BuildJob, BuildOutcome, DependencyBinaries } from '../../src/builder/vm/vm-types.js';
import { processesMentioning } from '../support/process-tree.js';

const FIXTURES = path.resolve('test/fixtures');
const imageDir = loadConfig().imageDir;

async function job(fixture: string, extra: Partial<BuildJob> = {}): Promise<BuildJob> {
  const sourceDir = path.join(FIXTURES, fixture);
  return {
    pkgid: 1, arch: 'x86_64', sourceDir,
    manifest: parseManifest(await readFile(path.join(sourceDir, 'package.json'))),
    dependencies: [], workDir: await mkdtemp(path.join(tmpdir(), `vm-runner-${fixture}-`)),
    timeoutSeconds: 180, memoryMib: 1024, cpus: 2, ...extra,
  };
}

describe('QemuRunner (real VMs)', function () {
  this.timeout(180_000);
  const runner = new QemuRunner({ imageDir, log: silentLogger });
  const workDirs: string[] = [];
  let helloArchive: string | null = null;

  before(async function () {
    this.timeout(900_000); // a first run builds the base image (mmdebstrap)
    await ensureImage({ imageDir, arch: 'x86_64', suite: 'bookworm', log: silentLogger });
  });
  after(async () => {
    for (const d of workDirs) await rm(d, { recursive: true, force: true });
  });
  const run = async (j: BuildJob): Promise<BuildOutcome> => {
    workDirs.push(j.workDir);
    return runner.run(j);
  };

  it('builds hello and measures what its install created', async () => {
    const chunks: Buffer[] = [];
    const o = await run(await job('hello', { onLog: (c) => chunks.push(c) }));
    expect(o.state, o.message).to.equal('good');
    expect(o.reason).to.equal(null);
    const m = o.measurements!;
    expect(m.arch).to.equal('x86_64');
    expect(m.files).to.include.members(['/usr/bin/hello', '/usr/share/doc/hello/README']);
    expect(m.modified_files).to.deep.equal([]);
    expect(m.binaries).to.deep.equal(['/usr/bin/hello']);
    expect(m.installed_size).to.be.greaterThan(0);
    expect(m.installed_size).to.equal(o.installed.filter((e) => e.type === 'file').reduce((s, e) => s + e.size, 0));
    expect(m.compile_seconds).to.be.greaterThan(0);
    expect(o.phases.boot_seconds).to.be.greaterThan(0);
    expect(o.phases.total_seconds).to.be.greaterThan(o.phases.boot_seconds! + m.compile_seconds);
    const hello = o.installed.find((e) => e.path === '/usr/bin/hello')!;
    expect(hello.type).to.equal('file');
    expect(hello.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(hello.mode).to.equal(0o755);
    const inArchive: string[] = [];
    await list({ file: o.binariesArchive!, onReadEntry: (e) => { inArchive.push(e.path); } });
    expect(inArchive).to.include.members(['usr/bin/hello', 'usr/share/doc/hello/README']);
    expect(await readFile(o.logFile, 'utf8')).to.include('hello.c');
    expect(Buffer.concat(chunks).toString()).to.include('hello.c');
    helloArchive = o.binariesArchive;
  });

  it('installs a dependency before the build and tells created from modified files', async function () {
    if (!helloArchive) this.skip();
    const dep: DependencyBinaries = { pkgid: 1, name: 'hello', version: '1.0', archive: helloArchive! };
    const o = await run(await job('uses-hello', { pkgid: 2, dependencies: [dep] }));
    expect(o.state, o.message).to.equal('good');
    const m = o.measurements!;
    expect(m.files).to.have.members(['/usr/share/doc/hello/GREETING', '/usr/share/doc/hello/GREETING.link']);
    expect(m.modified_files).to.deep.equal(['/etc/motd']);
    expect(m.binaries).to.deep.equal([]);
    const entry = (p: string) => o.installed.find((e) => e.path === p)!;
    expect(entry('/usr/share/doc/hello/GREETING.link').type).to.equal('hardlink');
    expect(m.installed_size).to.equal('hello from morphux\n'.length + entry('/etc/motd').size);
  });

  it('fails a build whose step exits non-zero with reason build', async () => {
    const o = await run(await job('broken-c', { pkgid: 3 }));
    expect(o.state).to.equal('failed');
    expect(o.reason).to.equal('build');
    expect(o.measurements).to.equal(null);
    expect(o.binariesArchive).to.equal(null);
    expect(o.phases.build_seconds).to.be.a('number');
    expect(await readFile(o.logFile, 'utf8')).to.include('broken.c');
  });

  it('kills a build at its time limit: reason timeout, no QEMU left', async () => {
    const j = await job('sleeper', { pkgid: 4, timeoutSeconds: 20 });
    const t0 = Date.now();
    const o = await run(j);
    expect(o.state).to.equal('failed');
    expect(o.reason).to.equal('timeout');
    expect((Date.now() - t0) / 1000).to.be.lessThan(60);
    expect(await processesMentioning(j.workDir)).to.deep.equal([]);
  });

  it('kills a build whose log stays silent past the idle limit: reason timeout, long before the wall clock', async () => {
    const j = await job('sleeper', { pkgid: 5, timeoutSeconds: 300, idleSeconds: 45 });
    const t0 = Date.now();
    const o = await run(j);
    expect(o.state).to.equal('failed');
    expect(o.reason).to.equal('timeout');
    expect((Date.now() - t0) / 1000).to.be.lessThan(200);
    expect(await processesMentioning(j.workDir)).to.deep.equal([]);
  });
});
