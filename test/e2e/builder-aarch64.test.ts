// An aarch64 build in a real qemu-system-aarch64 VM (TCG, -M virt -cpu cortex-a72) from the arm64
// base image that `morphux image build --arch aarch64` makes. When this host cannot make or boot that
// image (no qemu-system-aarch64, no binfmt for arm64's maintainer scripts) it is skipped, saying why;
// under CI (process.env.CI set: .ci/run, which sets up aarch64) it fails instead, naming the reason,
// so a CI machine that cannot build aarch64 is red rather than silently green.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ensureImage } from '../../src/builder/vm/base-image.js';
import { foreignArchProblem } from '../../src/builder/vm/build-root-image.js';
import { QemuRunner } from '../../src/builder/vm/qemu-runner.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { parseManifest } from '../../src/domain/manifest.js';

const config = loadConfig();
const HELLO = path.resolve('test/fixtures/hello');
/** CI=true (.ci/run): what would skip here is a CI machine set up wrong, so it fails */
const IN_CI = !!process.env.CI && !/^(0|false)$/i.test(process.env.CI);

describe('aarch64 build (real qemu-system-aarch64 VM)', function () {
  this.timeout(600_000);
  let workDir = '';

  before(async function () {
    this.timeout(3_600_000); // a first run makes the arm64 root under qemu-user (minutes)
    const qemu = await execa('qemu-system-aarch64', ['--version'], { reject: false });
    const why = qemu.exitCode !== 0 ? 'qemu-system-aarch64 is not installed (scripts/setup.sh --arch aarch64)' : await foreignArchProblem('arm64');
    if (why) {
      if (IN_CI) throw new Error(`aarch64 cannot be built on this CI machine: ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    await ensureImage({ imageDir: config.imageDir, arch: 'aarch64', suite: config.builder.suite, log: silentLogger });
  });
  after(async () => { if (workDir) await rm(workDir, { recursive: true, force: true }); });

  it('builds hello for aarch64: an aarch64 ELF, measured and packed like x86_64', async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'builder-aarch64-'));
    const runner = new QemuRunner({ imageDir: config.imageDir, log: silentLogger });
    const t0 = Date.now();
    const o = await runner.run({
      pkgid: 1, arch: 'aarch64', sourceDir: HELLO, workDir, dependencies: [],
      manifest: parseManifest(await readFile(path.join(HELLO, 'package.json'))),
      timeoutSeconds: 540, idleSeconds: 300, memoryMib: 1024, cpus: 2,
    });
    console.log(`      aarch64 hello: ${o.state} in ${((Date.now() - t0) / 1000).toFixed(1)} s, phases ${JSON.stringify(o.phases)}`);
    expect(o.state, `${o.message}\n${(await readFile(o.logFile, 'utf8')).slice(-3000)}`).to.equal('good');
    expect(o.measurements!.arch).to.equal('aarch64');
    expect(o.measurements!.binaries).to.deep.equal(['/usr/bin/hello']);
    const r = await execa('tar', ['-xzOf', o.binariesArchive!, 'usr/bin/hello'], { encoding: 'buffer', stripFinalNewline: false });
    const elf = Buffer.from(r.stdout);
    expect(elf.subarray(0, 4).toString('latin1')).to.equal('\x7fELF');
    expect(elf.readUInt16LE(18)).to.equal(183); // e_machine EM_AARCH64
  });
});
