// The /init of the guest initramfs (busybox sh): loads the kernel modules, finds the disks by
// their serial, mounts the per-build work disk and hands over to the job's /work/guest/run.sh.
// Kept generic on purpose: the build protocol lives on the work disk, so changing it needs no new image.

export const INITRD_INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /work /tmp
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
die() { echo "morphux-init: $*"; sync; poweroff -f; }
for m in $(cat /lib/modules/order); do
  insmod /lib/modules/$m.ko || echo "morphux-init: insmod $m failed"
done
if grep -q morphux.probe /proc/cmdline; then echo MORPHUX-PROBE-OK; poweroff -f; fi
disk() {
  for d in /sys/block/vd*; do
    [ "$(cat $d/serial 2>/dev/null)" = "$1" ] && { echo /dev/\${d##*/}; return 0; }
  done
  return 1
}
WORK=$(disk morphux-work) || die "no work disk"
MORPHUX_ROOT_DEV=$(disk morphux-root) || die "no root disk"
MORPHUX_RESULT_DEV=$(disk morphux-result) || die "no result disk"
export MORPHUX_ROOT_DEV MORPHUX_RESULT_DEV
mount -t ext4 "$WORK" /work || die "cannot mount the work disk"
[ -f /work/guest/run.sh ] || die "no /work/guest/run.sh"
exec sh /work/guest/run.sh
`;
