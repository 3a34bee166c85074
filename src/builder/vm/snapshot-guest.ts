// The guest side of a snapshot start (vm-snapshot.ts). The saved VM booted like any build VM, but
// its work disk was a placeholder whose /work/guest/run.sh is WAITER_ENTRY: it leaves the work disk
// (remounted read-only, so nothing of the placeholder is ever written to a job's disk), waits for
// the kernel's random pool, prints SNAPSHOT_READY and blocks reading its console. The host saves the
// whole machine there. Every job's VM restores that state with the job's own disks attached in
// place of the placeholders and writes one line to the console:
//   go <unix seconds> <hex of 32 random bytes>
// The guest credits the bytes to its random pool and reseeds (no two jobs share the saved entropy), sets the
// clock (the saved one is stale), drops the placeholders' cached blocks, mounts the job's work disk
// and runs its run.sh as a cold-booted guest would. MORPHUX_GO_UPTIME (the guest's uptime when the
// line came) lets the host tell boot time from the guest's resumed uptime.
// Nothing here is in the initramfs: it lives on the placeholder disk, so changing it needs no new image.

export const SNAPSHOT_READY = 'MORPHUX-SNAPSHOT-READY';

/** /work/guest/run.sh of the placeholder work disk: copies the waiter out of /work and runs it. */
export const WAITER_ENTRY = `#!/bin/sh
cp /work/guest/waiter.sh /morphux-waiter.sh && exec sh /morphux-waiter.sh
echo "morphux-snapshot: cannot start the waiter"; poweroff -f
`;

export const WAITER_SCRIPT = `#!/bin/sh
# morphux snapshot waiter (snapshot-guest.ts)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
die() { echo "morphux-snapshot: $*"; poweroff -f; }
cd /
mount -o remount,ro /work || die "cannot remount the placeholder work disk read-only"
mkdir -p /base
mount -t ext4 -o ro,noload "$MORPHUX_ROOT_DEV" /base || die "cannot mount the base root"
# what every build runs, read once into the page cache the state keeps (the root never changes)
mount -t devtmpfs dev /base/dev || die "cannot mount /base/dev"
chroot /base /bin/bash -c 'cut -d" " -f1 /dev/null; date +%s%N; env true; make --version; gcc --version; as --version; ld --version; tar --version; perl -e 1' > /dev/null 2>&1
for f in /base/usr/lib/gcc/*/*/cc1 /base/usr/lib/gcc/*/*/collect2 /base/usr/lib/gcc/*/*/lto-wrapper /base/usr/lib/*/libbfd* /base/usr/lib/*/libopcodes* /base/usr/lib/*/libctf*; do
  [ -f "$f" ] && cat "$f" > /dev/null
done
head -c 1 /dev/random > /dev/null
stty -echo 2>/dev/null
echo ${SNAPSHOT_READY}
read -r word epoch seed || die "no hand-in line"
[ "$word" = go ] || die "unexpected hand-in: $word"
MORPHUX_GO_UPTIME=$(cut -d' ' -f1 /proc/uptime)
export MORPHUX_GO_UPTIME
# the bytes credited to the pool and the kernel's generator reseeded at once (RNDADDENTROPY,
# RNDRESEEDCRNG): a plain write would only mix them in, and the restored generator would go on
# from the saved state for up to a minute. Perl is in every build root (dpkg-dev needs it).
chroot /base /usr/bin/perl -e 'open(my $f, ">", "/dev/urandom") or exit 1; my $b = pack("H*", $ARGV[0]);
  ioctl($f, 0x40085203, pack("ii", 8 * length($b), length($b)) . $b) or exit 2; ioctl($f, 0x5207, 0) or exit 3' "$seed" \
  || die "cannot reseed the random generator"
date -s "@$epoch" > /dev/null || die "cannot set the clock"
umount /work || die "cannot leave the placeholder work disk"
for d in /sys/block/vd*; do [ "/dev/\${d##*/}" = "$MORPHUX_ROOT_DEV" ] || blockdev --flushbufs /dev/\${d##*/}; done
WORK=""
for d in /sys/block/vd*; do
  [ "$(cat $d/serial 2>/dev/null)" = morphux-work ] && WORK=/dev/\${d##*/}
done
[ -n "$WORK" ] || die "no work disk"
mount -t ext4 "$WORK" /work || die "cannot mount the job's work disk"
[ -f /work/guest/run.sh ] || die "no /work/guest/run.sh on the job's work disk"
exec sh /work/guest/run.sh
`;
