// The aarch64 code path as far as it runs without an aarch64 VM: its profile and QEMU command line,
// TCG without a KVM probe on another host arch, the mmdebstrap arguments (x86_64's unchanged, so its
// cached image stays valid), and taking Debian's kernel out of a root tree.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chooseAccel } from '../../src/builder/vm/accel-probe.js';
import { archProfile } from '../../src/builder/vm/arch-profile.js';
import { mmdebstrapArgs } from '../../src/builder/vm/build-root-image.js';
import { qemuArgs } from '../../src/builder/vm/qemu-args.js';
import { takeRootKernel } from '../../src/builder/vm/root-kernel.js';
import { silentLogger } from '../../src/lib/logger.js';

const image = { dir: '/img', rootImage: '/img/root.ext4', kernel: '/img/vmlinux', initrd: '/img/initrd.cpio.gz' };

describe('aarch64 builds: what runs without an aarch64 VM', () => {
  it('boots qemu-system-aarch64 -M virt -cpu cortex-a72 with mmio disks, PL011 console and no NIC', () => {
    const p = archProfile('aarch64');
    expect(p.qemuBinary).to.equal('qemu-system-aarch64');
    const args = qemuArgs({ profile: p, image, accel: 'tcg', memoryMib: 1024, cpus: 2, disks: { workDisk: '/w', resultDisk: '/r' } }).join(' ');
    expect(args).to.include('-M virt -accel tcg -cpu cortex-a72 -m 1024 -smp 2');
    expect(args).to.include('-nic none');
    expect(args).to.include('console=ttyAMA0');
    expect(args.match(/virtio-blk-device,drive=\w+,serial=morphux-(root|work|result)/g)).to.have.length(3);
    expect(p.modules).to.include('virtio_mmio');
  });

  it('uses TCG for a foreign arch without a KVM probe boot', async function () {
    if (process.arch !== 'x64') this.skip();
    expect(await chooseAccel('auto', archProfile('aarch64'), image, silentLogger)).to.equal('tcg');
  });

  it("installs Debian's arm64 kernel and busybox-static into the arm64 root, without update-initramfs", () => {
    const a = mmdebstrapArgs({ debArch: 'arm64', suite: 'bookworm', includes: archProfile('aarch64').rootIncludes }, 'DIR');
    expect(a).to.include('--arch=arm64');
    expect(a).to.include('--include=linux-image-arm64,busybox-static');
    expect(a.find((x) => x.startsWith('--essential-hook='))).to.include('update-initramfs');
  });

  it("keeps x86_64's mmdebstrap arguments as they were (its cached image stays valid)", () => {
    const a = mmdebstrapArgs({ debArch: 'amd64', suite: 'bookworm', includes: archProfile('x86_64').rootIncludes }, 'DIR');
    expect(a.slice(0, 5)).to.deep.equal(['--variant=buildd', '--arch=amd64', '--aptopt=Acquire::Check-Valid-Until "false"', 'bookworm', 'DIR']);
  });

  describe('takeRootKernel', () => {
    let dir: string;
    beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'vm-arch-')); });
    afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

    it('takes the (gunzipped) kernel, its modules and busybox out of the tree and leaves the rest', async () => {
      const tree = path.join(dir, 'tree');
      const ver = '6.1.0-99-arm64';
      await mkdir(path.join(tree, 'boot'), { recursive: true });
      await mkdir(path.join(tree, 'usr/lib/modules', ver, 'kernel'), { recursive: true });
      await mkdir(path.join(tree, 'bin'), { recursive: true });
      await writeFile(path.join(tree, 'boot', `vmlinuz-${ver}`), gzipSync(Buffer.from('ARM64-IMAGE')));
      await writeFile(path.join(tree, 'boot', `config-${ver}`), 'CONFIG=y\n');
      await writeFile(path.join(tree, 'usr/lib/modules', ver, 'modules.dep'), 'kernel/virtio_mmio.ko.xz:\n');
      await writeFile(path.join(tree, 'bin/busybox'), 'BUSYBOX');
      await writeFile(path.join(tree, 'bin/gcc'), 'GCC');
      const out = path.join(dir, 'out');
      await mkdir(out);
      const t = await takeRootKernel(tree, out, '/bin/busybox');
      expect(t.version).to.equal(ver);
      expect(await readFile(t.kernel, 'utf8')).to.equal('ARM64-IMAGE');
      expect(await readFile(path.join(t.modulesDir, 'modules.dep'), 'utf8')).to.include('virtio_mmio');
      expect(await readFile(t.busybox, 'utf8')).to.equal('BUSYBOX');
      expect(existsSync(path.join(tree, 'boot', `vmlinuz-${ver}`))).to.equal(false);
      expect(existsSync(path.join(tree, 'boot', `config-${ver}`))).to.equal(false);
      expect(existsSync(path.join(tree, 'usr/lib/modules', ver))).to.equal(false);
      expect(existsSync(path.join(tree, 'bin/gcc'))).to.equal(true);
    });

    it('fails with infrastructure when the tree has no kernel', async () => {
      await mkdir(path.join(dir, 'tree', 'boot'), { recursive: true });
      const err = await takeRootKernel(path.join(dir, 'tree'), dir, '/bin/busybox').catch((e) => e);
      expect(err.code).to.equal('infrastructure');
    });
  });
});
