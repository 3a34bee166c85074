// The guest side of a snapshot start (vm-snapshot.ts). The saved VM booted like any build VM, but
// its work disk was a placeholder whose /work/guest/run.sh is WAITER_ENTRY. The waiter reads what
// every build runs into the page cache, builds the go helper (GO_HELPER_C) with the root's compiler,
// makes the chroots' device template, leaves the placeholder disks (unmounted, their cached blocks
// dropped: nothing of them is in the saved state, nothing of them can reach a job's disk), waits for
// the kernel's random pool, prints SNAPSHOT_READY and blocks reading its console. The host saves the
// whole machine there. Every job's VM restores that state with the job's own disks attached in
// place of the placeholders and writes one line to the console:
//   go <unix seconds, to the millisecond> <hex of 32 random bytes>
// The go helper credits the bytes to the random pool and reseeds (no two jobs share the saved
// entropy), sets the clock (the saved one is stale), mounts the job's work disk and runs its run.sh
// as a cold-booted guest would. MORPHUX_GO_UPTIME (the guest's uptime when the line came) lets the
// host tell boot time from the guest's resumed uptime.
// Nothing here is in the initramfs: it lives on the placeholder disk, so changing it needs no new image.

import { DEV_TEMPLATE } from './guest-run-script.js';

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
# the go helper, built once here with the root's compiler (so for the guest's own architecture)
mount -t tmpfs -o size=64m,mode=1777 tmp /base/tmp || die "cannot mount /base/tmp"
cp /work/guest/morphux-go.c /base/tmp/ && chroot /base gcc -O2 -static -o /tmp/morphux-go /tmp/morphux-go.c \\
  && cp /base/tmp/morphux-go /morphux-go || die "cannot build the go helper"
umount /base/tmp
${DEV_TEMPLATE}
# the placeholder disks left before the state is saved: none of their blocks is cached or mounted in it
umount /work || die "cannot leave the placeholder work disk"
for d in /sys/block/vd*; do [ "/dev/\${d##*/}" = "$MORPHUX_ROOT_DEV" ] || blockdev --flushbufs /dev/\${d##*/}; done
head -c 1 /dev/random > /dev/null
stty -echo 2>/dev/null
echo ${SNAPSHOT_READY}
read -r word epoch seed || die "no hand-in line"
[ "$word" = go ] || die "unexpected hand-in: $word"
read -r MORPHUX_GO_UPTIME _ < /proc/uptime
export MORPHUX_GO_UPTIME
exec /morphux-go "$epoch" "$seed" "$MORPHUX_ROOT_DEV"
`;

/**
 * morphux-go, the restored guest's steps from its hand-in to its job's run.sh, in one static
 * process (the root's Perl for the ioctls alone took 0.12–0.2 s under TCG, each busybox step
 * 0.01–0.04): credits the host's random bytes and reseeds the kernel's generator (RNDADDENTROPY,
 * RNDRESEEDCRNG: a plain write would only mix them in, and the restored generator would go on from
 * the saved state for up to a minute), sets the clock to the host's, mounts the job's work disk (found
 * by its serial) and runs its guest/run.sh. Run as pid 1 (the waiter execs it, as a cold boot's init
 * execs run.sh: run.sh's sweep spares pid 1 alone); on failure it says why and powers off.
 * Usage: morphux-go SECONDS[.FRACTION] HEX ROOTDEV
 */
export const GO_HELPER_C = String.raw`/* morphux-go: see snapshot-guest.ts */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "morphux-snapshot: %s (%s)\n", what, errno ? strerror(errno) : "bad argument");
  if (getpid() == 1) { sync(); reboot(RB_POWER_OFF); }
  exit(1);
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int main(int argc, char **argv) {
  errno = 0;
  if (argc != 4) die("usage: morphux-go SECONDS[.FRACTION] HEX ROOTDEV");
  struct { int entropy_count; int buf_size; unsigned char buf[64]; } pool;
  size_t len = strlen(argv[2]);
  if (len < 32 || len > 2 * sizeof pool.buf || len % 2) die("the random bytes are not 16 to 64 bytes of hex");
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hex(argv[2][2 * i]), lo = hex(argv[2][2 * i + 1]);
    if (hi < 0 || lo < 0) die("the random bytes are not hex");
    pool.buf[i] = (unsigned char)(hi << 4 | lo);
  }
  pool.buf_size = (int)(len / 2);
  pool.entropy_count = 8 * pool.buf_size;
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool) || ioctl(fd, RNDRESEEDCRNG)) die("cannot reseed the random generator");
  close(fd);

  char *end;
  struct timeval tv = { .tv_sec = strtoll(argv[1], &end, 10), .tv_usec = 0 };
  if (end == argv[1]) die("the clock is not a number");
  if (*end == '.') {
    long scale = 100000;
    for (end++; *end >= '0' && *end <= '9' && scale; end++, scale /= 10) tv.tv_usec += (*end - '0') * scale;
  }
  if (settimeofday(&tv, NULL)) die("cannot set the clock");

  char work[64] = "";
  DIR *d = opendir("/sys/block");
  if (!d) die("cannot read /sys/block");
  for (struct dirent *e; (e = readdir(d));) {
    if (strncmp(e->d_name, "vd", 2) || strlen(e->d_name) > 16) continue;
    char dev[32], serial[64] = "", file[64];
    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
    if (!strcmp(dev, argv[3])) continue;
    snprintf(file, sizeof file, "/sys/block/%s/serial", e->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue;
    if (fgets(serial, sizeof serial, f) && (serial[strcspn(serial, "\n")] = 0, !strcmp(serial, "morphux-work"))) snprintf(work, sizeof work, "%s", dev);
    fclose(f);
  }
  closedir(d);
  errno = 0;
  if (!*work) die("no work disk");
  if (mount(work, "/work", "ext4", 0, NULL)) die("cannot mount the job's work disk");
  if (access("/work/guest/run.sh", R_OK)) die("no /work/guest/run.sh on the job's work disk");
  execl("/bin/sh", "sh", "/work/guest/run.sh", (char *)NULL);
  die("cannot run /work/guest/run.sh");
}
`;
