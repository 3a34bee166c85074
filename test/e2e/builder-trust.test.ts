// The builder's fidelity and isolation in real QEMU VMs, from one fixture built twice
// (test/fixtures/trust-probe): hard links counted once, created vs modified files, ELF binaries by
// magic (a shell script next to an ELF program is not one), compile time of the build steps alone,
// the VM's CPUs and memory, no network, the kept log capped (not the live one), and nothing of the
// first build seen by the second.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { ensureImage } from '../../src/builder/vm/base-image.js';
import { QemuRunner } from '../../src/builder/vm/qemu-runner.js';
import type { BuildJob, BuildOutcome } from '../../src/builder/vm/vm-types.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { parseManifest } from '../../src/domain/manifest.js';

const FIXTURE = path.resolve('test/fixtures/trust-probe');
const config = loadConfig();

describe('builder fidelity and isolation (real VMs, trust-probe built twice)', function () {
  this.timeout(300_000);
  const LOG_MAX = 64 * 1024;
  const runner = new QemuRunner({ imageDir: config.imageDir, log: silentLogger, logMaxBytes: LOG_MAX });
  const liveBytes: number[] = [];
  const workDirs: string[] = [];
  const outcomes: BuildOutcome[] = [];
  const logs: string[] = [];
  const buildStarted: number[] = [];
  const buildEnded: number[] = [];

  async function build(pkgid: number): Promise<BuildOutcome> {
    const workDir = await mkdtemp(path.join(tmpdir(), `builder-trust-${pkgid}-`));
    workDirs.push(workDir);
    const job: BuildJob = {
      pkgid, arch: 'x86_64', sourceDir: FIXTURE, workDir, dependencies: [],
      manifest: parseManifest(await readFile(path.join(FIXTURE, 'package.json'))),
      timeoutSeconds: 240, idleSeconds: 120, memoryMib: config.builder.memory_mib, cpus: config.builder.cpus,
      onLog: (c) => { liveBytes[pkgid - 1] = (liveBytes[pkgid - 1] ?? 0) + c.length; },
    };
    const t0 = Date.now();
    buildStarted[pkgid - 1] = t0;
    const o = await runner.run(job);
    buildEnded[pkgid - 1] = Date.now();
    if (pkgid > outcomes.length) outcomes.push(o);
    console.log(`      trust-probe build ${pkgid}: ${o.state} in ${((Date.now() - t0) / 1000).toFixed(1)} s, phases ${JSON.stringify(o.phases)}`);
    logs.push(await readFile(o.logFile, 'utf8'));
    return o;
  }

  before(async function () {
    this.timeout(900_000);
    await ensureImage({ imageDir: config.imageDir, arch: 'x86_64', suite: config.builder.suite, log: silentLogger });
    await build(1);
  });
  after(async () => { for (const d of workDirs) await rm(d, { recursive: true, force: true }); });

  it('builds good with no network inside the VM (no NIC but lo, connections fail)', () => {
    expect(outcomes[0].state, `${outcomes[0].message}\n${logs[0].slice(-2000)}`).to.equal('good');
    expect(logs[0]).to.include('TRUST: nics=[]');
    expect(logs[0]).to.include('TRUST: network unreachable');
  });

  it('gives the VM the configured CPUs and memory (default 2 vCPUs, 1 GiB)', () => {
    const m = /TRUST: cpus=(\d+) mem_kib=(\d+)/.exec(logs[0]);
    expect(m, logs[0]).to.not.equal(null);
    expect(Number(m![1])).to.equal(config.builder.cpus);
    expect(Number(m![2])).to.be.within(config.builder.memory_mib * 1024 * 0.8, config.builder.memory_mib * 1024);
  });

  it('tells created files from modified files of the base root', () => {
    const m = outcomes[0].measurements!;
    expect(m.files).to.have.members([
      '/usr/bin/trust-probe', '/usr/bin/trust-probe-wrapper', '/usr/lib/trust-probe/helper', '/usr/lib/trust-probe/libfake.so',
      '/usr/lib/trust-probe/data', '/usr/lib/trust-probe/data.link', '/usr/lib/trust-probe/data.link2', '/etc/trust-probe.conf',
    ]);
    expect(m.modified_files).to.deep.equal(['/etc/motd']);
  });

  it('finds ELF binaries by their magic, not by path', () => {
    expect(outcomes[0].measurements!.binaries).to.have.members(['/usr/bin/trust-probe', '/usr/lib/trust-probe/helper']);
  });

  it('counts hard-linked files once in installed_size and records them as links in the manifest', () => {
    const o = outcomes[0];
    const e = (p: string) => o.installed.find((x) => x.path === p)!;
    expect(e('/usr/lib/trust-probe/data')).to.include({ type: 'file', size: 1000 });
    expect(e('/usr/lib/trust-probe/data.link')).to.include({ type: 'hardlink', target: '/usr/lib/trust-probe/data' });
    expect(e('/usr/lib/trust-probe/data.link2')).to.include({ type: 'hardlink', target: '/usr/lib/trust-probe/data' });
    const regular = ['/usr/bin/trust-probe', '/usr/bin/trust-probe-wrapper', '/usr/lib/trust-probe/helper',
      '/usr/lib/trust-probe/libfake.so', '/usr/lib/trust-probe/data', '/etc/trust-probe.conf', '/etc/motd'];
    expect(o.measurements!.installed_size).to.equal(regular.reduce((n, p) => n + e(p).size, 0));
    expect(e('/usr/bin/trust-probe-wrapper')).to.include({ type: 'file', mode: 0o755 });
    expect(e('/usr/bin/trust-probe').sha256).to.match(/^[0-9a-f]{64}$/);
  });

  it('stores the installed files in the binaries archive, hard links as links', async () => {
    const entries = new Map<string, string>();
    await list({ file: outcomes[0].binariesArchive!, onReadEntry: (x) => { entries.set(x.path.replace(/\/$/, ''), x.type); } });
    expect(entries.get('usr/bin/trust-probe')).to.equal('File');
    expect(entries.get('etc/motd')).to.equal('File');
    expect([entries.get('usr/lib/trust-probe/data'), entries.get('usr/lib/trust-probe/data.link')]).to.include('Link');
  });

  it('measures compile time as the wall time of the build steps alone', () => {
    const o = outcomes[0];
    const c = o.measurements!.compile_seconds;
    expect(c).to.equal(o.phases.build_seconds);
    expect(c).to.be.at.least(2); // the build's sleep 2 …
    expect(o.phases.install_seconds).to.be.at.least(4); // … and not the install's sleep 4
    expect(o.phases.total_seconds).to.be.greaterThan(o.phases.boot_seconds! + c + o.phases.install_seconds!);
  });

  it('caps the kept log at log_max_bytes while the live log carries everything', () => {
    expect(liveBytes[0]).to.be.greaterThan(348_894); // seq 1 60000
    expect(Buffer.byteLength(logs[0])).to.be.within(LOG_MAX - 4096, LOG_MAX + 200);
    // the guest already stopped keeping at the cap (its result tar stays small): the host's cut
    // saw a log of barely more than LOG_MAX bytes, not the whole output
    const cut = /\[morphux: log cut at \d+ of (\d+) bytes\]/.exec(logs[0]);
    expect(cut, logs[0].slice(-300)).to.not.equal(null);
    expect(Number(cut![1])).to.be.lessThan(LOG_MAX + 1024);
  });

  it('lets nothing of one build survive it: a second build sees a pristine root', async () => {
    const o = await build(2);
    expect(o.state, `${o.message}\n${logs[1].slice(-2000)}`).to.equal('good');
    expect(logs[1]).to.include('TRUST: isolation ok');
    expect(o.measurements!.modified_files).to.deep.equal(['/etc/motd']);
  });

  it('starts each VM from the saved state with its own entropy and the host\'s clock', () => {
    expect(outcomes[1], 'the second build').to.not.equal(undefined);
    const fresh = logs.map((l) => /TRUST: random=([0-9a-f]{32}) uuid=(\S+) clock=(\d+)/.exec(l));
    for (const [i, f] of fresh.entries()) {
      expect(f, logs[i].slice(0, 2000)).to.not.equal(null);
      // the build ran within the last few minutes, and the guest's clock says so (the saved one is older)
      expect(Number(f![3])).to.be.within(buildStarted[i] / 1000 - 5, buildEnded[i] / 1000 + 5);
    }
    expect(fresh[0]![1], 'random bytes').to.not.equal(fresh[1]![1]);
    expect(fresh[0]![2], 'kernel UUIDs').to.not.equal(fresh[1]![2]);
    // both were restored (config builder.snapshot, on by default), not booted cold
    expect(config.builder.snapshot).to.equal(true);
    for (const o of outcomes) expect(o.phases.restore_seconds, JSON.stringify(o.phases)).to.be.a('number');
  });
});
