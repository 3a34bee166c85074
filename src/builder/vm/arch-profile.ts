// What differs between guest architectures: the QEMU binary and machine, the Debian architecture,
// the console, the kernel modules the initramfs loads. Only x86_64 exists today; aarch64 is issue 3.
import type { Arch } from '../../config/config-schema.js';
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
  console: string;
  /** bus of the virtio disks (-device <blockDevice>) */
  blockDevice: string;
  /** modules the initramfs loads (dependencies are added from modules.dep) */
  modules: string[];
  /** the statically linked busybox of this architecture on the host */
  busybox: string;
}

const X86_64: ArchProfile = {
  arch: 'x86_64',
  debArch: 'amd64',
  qemuBinary: 'qemu-system-x86_64',
  machineArgs: ['-M', 'q35'],
  cpuArgs: { kvm: ['-cpu', 'host'], tcg: [] },
  console: 'ttyS0',
  blockDevice: 'virtio-blk-pci',
  // crc32c_generic: ext4's metadata checksums ask the crypto API for crc32c (a softdep)
  modules: ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4', 'overlay'],
  busybox: '/bin/busybox',
};

export function archProfile(arch: Arch): ArchProfile {
  if (arch === 'x86_64') return X86_64;
  throw new MorphuxError('infrastructure', `building for ${arch} is not supported yet`, { arch });
}
