// What differs between guest architectures: the QEMU binary and machine, the Debian architecture,
// the console, the kernel (the host's for x86_64; for aarch64 Debian's arm64 kernel, installed into
// the base root by mmdebstrap and taken out of it), the modules the initramfs loads.
import { arch as hostArch } from 'node:os';
import type { Arch } from '../../domain/arch.js';
import { MorphuxError } from '../../domain/errors.js';

export interface ArchProfile {
  arch: Arch;
  /** Debian's name for it (mmdebstrap --arch) */
  debArch: string;
  qemuBinary: string;
  /** -M and friends, before the accelerator */
  machineArgs: string[];
  /** extra -cpu argument per accelerator */
  cpuArgs: { kvm: string[]; tcg: string[] };
  /** KVM can only run a guest of the host's own architecture */
  kvmPossible: boolean;
  console: string;
  /** bus of the virtio disks (-device <blockDevice>) */
  blockDevice: string;
  /** modules the initramfs loads (dependencies are added from modules.dep; built-in ones skipped) */
  modules: string[];
  /**
   * host: the host's kernel and modules and a static busybox on the host (x86_64 on an x86_64 host);
   * root: Debian's kernel and busybox-static of this architecture, installed into the root tree
   * by mmdebstrap, copied out into the image dir and removed from the root before mkfs.
   */
  kernelSource: 'host' | 'root';
  /** the statically linked busybox of this architecture (host path, or path inside the root tree) */
  busybox: string;
  /** extra packages for mmdebstrap --include */
  rootIncludes: string[];
}

const X86_64: ArchProfile = {
  arch: 'x86_64',
  debArch: 'amd64',
  qemuBinary: 'qemu-system-x86_64',
  machineArgs: ['-M', 'q35'],
  cpuArgs: { kvm: ['-cpu', 'host'], tcg: [] },
  kvmPossible: hostArch() === 'x64',
  console: 'ttyS0',
  blockDevice: 'virtio-blk-pci',
  // crc32c_generic: ext4's metadata checksums ask the crypto API for crc32c (a softdep)
  modules: ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4', 'overlay'],
  kernelSource: 'host',
  busybox: '/bin/busybox',
  rootIncludes: [],
};

const AARCH64: ArchProfile = {
  arch: 'aarch64',
  debArch: 'arm64',
  qemuBinary: 'qemu-system-aarch64',
  // cortex-a72, not max: max emulates pointer authentication, which makes TCG 4-5x slower to boot
  machineArgs: ['-M', 'virt'],
  cpuArgs: { kvm: ['-cpu', 'host'], tcg: ['-cpu', 'cortex-a72'] },
  kvmPossible: hostArch() === 'arm64',
  console: 'ttyAMA0',
  blockDevice: 'virtio-blk-device',
  modules: ['virtio_mmio', 'virtio_blk', 'crc32c_generic', 'ext4', 'overlay'],
  kernelSource: 'root',
  busybox: '/bin/busybox',
  rootIncludes: ['linux-image-arm64', 'busybox-static'],
};

export function archProfile(arch: Arch): ArchProfile {
  if (arch === 'x86_64') return X86_64;
  if (arch === 'aarch64') return AARCH64;
  throw new MorphuxError('infrastructure', `building for ${String(arch)} is not supported`, { arch });
}
