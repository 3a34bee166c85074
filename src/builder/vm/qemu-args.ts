// The QEMU command line of a build VM: no network, no default devices, serial console on stdio,
// the PVH kernel + initramfs, and the three virtio disks the guest finds by serial.
import type { ImagePaths } from './base-image.js';
import type { ArchProfile } from './arch-profile.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuArgsInput {
  profile: ArchProfile;
  image: ImagePaths;
  accel: Accel;
  memoryMib: number;
  cpus: number;
  /** absent for a probe boot */
  disks?: { workDisk: string; resultDisk: string };
  extraCmdline?: string[];
}

export function qemuArgs(i: QemuArgsInput): string[] {
  const p = i.profile;
  const drive = (id: string, file: string, extra: string): string[] => [
    '-drive', `file=${file},if=none,id=${id},format=raw${extra}`,
    '-device', `${p.blockDevice},drive=${id},serial=morphux-${id}`,
  ];
  const cmdline = [`console=${p.console}`, 'quiet', 'loglevel=3', 'panic=-1', ...(i.extraCmdline ?? [])];
  return [
    ...p.machineArgs, '-accel', i.accel, ...p.cpuArgs[i.accel],
    '-m', String(i.memoryMib), '-smp', String(i.cpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-nic', 'none',
    '-serial', 'stdio',
    '-kernel', i.image.kernel, '-initrd', i.image.initrd, '-append', cmdline.join(' '),
    ...(i.disks ? [
      ...drive('root', i.image.rootImage, ',readonly=on'),
      ...drive('work', i.disks.workDisk, ',cache=unsafe'),
      ...drive('result', i.disks.resultDisk, ''),
    ] : []),
  ];
}
