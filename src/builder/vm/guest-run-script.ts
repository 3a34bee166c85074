// The guest side of the build protocol: /work/guest/run.sh, run by busybox sh as pid 1 after the
// initramfs mounted the work disk. Overlay 1 (base + deps + build), overlay 2 (install only), then
// ONE tar (meta/ + u2/) written to the result disk and power-off. See README.md for the protocol.

/** Paths never reported as installed (guest and host both drop them). */
export const EXCLUDED_DIRS = ['build', 'tmp', 'var/tmp', 'root', 'dev', 'proc', 'sys', 'run'];

/**
 * The device nodes and links every chroot's /dev gets (api_up copies them into a fresh tmpfs, one
 * process instead of one per node). Made once per guest: a restored one has it from its saved state
 * (snapshot-guest.ts), a cold-booted one makes it at the start of run.sh.
 */
export const DEV_TEMPLATE = `[ -d /morphux-dev ] || {
  mkdir -p /morphux-dev.tmp/pts /morphux-dev.tmp/shm && cd /morphux-dev.tmp \\
  && mknod -m 666 null c 1 3 && mknod -m 666 zero c 1 5 && mknod -m 666 full c 1 7 \\
  && mknod -m 666 random c 1 8 && mknod -m 666 urandom c 1 9 && mknod -m 666 tty c 5 0 \\
  && ln -s /proc/self/fd fd && ln -s fd/0 stdin && ln -s fd/1 stdout && ln -s fd/2 stderr && ln -s pts/ptmx ptmx \\
  && cd / && mv /morphux-dev.tmp /morphux-dev
} || echo "morphux: cannot make the device template"`;

export const GUEST_RUN_SCRIPT = `#!/bin/sh
# morphux guest protocol v1 (guest-run-script.ts)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
S=/work/scratch; M=$S/meta; LOG=$M/build.log
LOG_MAX_BYTES=8388608; [ -f /work/guest/env.sh ] && . /work/guest/env.sh
mkdir -p $S/u1 $S/w1 $S/u2 $S/w2 $M /base /ovl /lower
: > $LOG
${DEV_TEMPLATE}
ERROR=""; DEPS=0; BUILD=""; INSTALL=""
mounted() { grep -q " $1 " /proc/mounts; }
note() { echo "==> morphux: $*" | tee -a $LOG; }
sweep() {
  for i in 1 2; do
    for p in /proc/[0-9]*; do
      p=\${p#/proc/}
      pp=0; read -r _ _ _ pp _ < /proc/$p/stat 2>/dev/null
      case " 1 $1 " in *" $p "*) continue ;; esac
      case " $1 " in *" $pp "*) continue ;; esac
      kill -9 "$p" 2>/dev/null
    done
  done
}
api_up() {
  r=$1
  mount -t proc proc $r/proc && mount -t sysfs sys $r/sys && mount -t tmpfs -o mode=755 dev $r/dev && mount -t tmpfs run $r/run \\
    && cp -a /morphux-dev/. $r/dev/ || return 1
  mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
  mount -t tmpfs shm $r/dev/shm
}
api_down() {
  for m in dev/shm dev/pts dev run sys proc; do umount $1/$m 2>/dev/null || umount -l $1/$m 2>/dev/null; done
}
# run_phase NAME: runs /work/guest/NAME.sh chrooted in /ovl, its output to the log and the console
run_phase() {
  api_up /ovl || { ERROR="cannot prepare the $1 root"; return 1; }
  cp /work/guest/$1.sh /ovl/tmp/morphux-$1.sh
  rm -f /tmp/log.fifo /tmp/log.cap; mkfifo /tmp/log.fifo /tmp/log.cap
  # console gets everything; the kept log stops at LOG_MAX_BYTES (the rest is drained, not kept)
  left=$(( LOG_MAX_BYTES - $(wc -c < $LOG) )); [ $left -gt 0 ] || left=0
  { head -c $left >> $LOG; cat > /dev/null; } < /tmp/log.cap & hp=$!
  tee /tmp/log.cap < /tmp/log.fifo & tp=$!
  env -i HOME=/root LANG=C.UTF-8 TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    chroot /ovl /bin/bash /tmp/morphux-$1.sh > /tmp/log.fifo 2>&1 < /dev/null &
  wait $!
  sweep "$tp $hp"
  wait $tp; wait $hp
  [ $(wc -c < $LOG) -ge $LOG_MAX_BYTES ] && echo "[morphux: log cut at $LOG_MAX_BYTES bytes]" >> $LOG
  api_down /ovl
  R=$(cat /ovl/tmp/morphux-$1.result 2>/dev/null); [ -n "$R" ] || R="255 0 0 0"
  eval "$2=\\"\\$R\\""
}
pjson() {
  [ -n "$1" ] || { echo null; return; }
  set -- $1
  echo "{\\"status\\":$1,\\"failed_step\\":$2,\\"seconds\\":$4}"
}
finish() {
  [ -n "$ERROR" ] && note "error: $ERROR"
  mounted /ovl && { api_down /ovl; umount /ovl || umount -l /ovl; }
  for d in ${EXCLUDED_DIRS.join(' ')}; do rm -rf $S/u2/$d; done
  : > $M/existed
  if mount -t overlay overlay -o ro,lowerdir=$S/u1:/base /lower 2>/dev/null; then
    (cd $S/u2 && find . -mindepth 1 ! -type d) | while IFS= read -r p; do
      p=\${p#.}
      if [ -e "/lower$p" ] || [ -L "/lower$p" ]; then echo "$p"; fi
    done > $M/existed
    umount /lower
  fi
  B=0; [ -n "$BUILD" ] && set -- $BUILD && B=$3
  E=null; [ -n "$ERROR" ] && E="\\"$ERROR\\""
  G=null; [ -n "$MORPHUX_GO_UPTIME" ] && G=$MORPHUX_GO_UPTIME
  echo "{\\"version\\":1,\\"arch\\":\\"$(uname -m)\\",\\"error\\":$E,\\"boot_uptime\\":$B,\\"go_uptime\\":$G,\\"deps\\":{\\"status\\":$DEPS},\\"build\\":$(pjson "$BUILD"),\\"install\\":$(pjson "$INSTALL"),\\"end_uptime\\":$(cut -d' ' -f1 /proc/uptime)}" > $M/result.json
  if mounted /base && mount --bind $S /base/mnt; then
    chroot /base tar --numeric-owner -C /mnt -cf - meta u2 > $MORPHUX_RESULT_DEV
    umount /base/mnt
  else
    (cd $S && tar -cf $MORPHUX_RESULT_DEV meta u2)
  fi
  sync
  echo "==> morphux: result written"
  poweroff -f
}
# the build's host name and clock (guest/env.sh, domain/rebuild.ts): a rebuild runs a year and some hours on
[ -n "$MORPHUX_HOSTNAME" ] && hostname "$MORPHUX_HOSTNAME"
[ -n "$MORPHUX_CLOCK_SHIFT" ] && [ "$MORPHUX_CLOCK_SHIFT" != 0 ] && date -s "@$(( $(date +%s) + MORPHUX_CLOCK_SHIFT ))" > /dev/null
mounted /base || mount -t ext4 -o ro,noload $MORPHUX_ROOT_DEV /base || { ERROR="cannot mount the base root"; finish; }
mount -t overlay overlay -o lowerdir=/base,upperdir=$S/u1,workdir=$S/w1 /ovl || { ERROR="cannot mount overlay 1"; finish; }
for a in /work/deps/*; do
  [ -f "$a" ] || continue
  note "installing dependency \${a##*/}"
  chroot /ovl tar -xzpf - -C / < "$a" >> $LOG 2>&1 || { DEPS=1; ERROR="cannot install dependency \${a##*/}"; finish; }
done
mkdir -p /ovl/build && cp -a /work/src/. /ovl/build/ || { ERROR="cannot copy the sources"; finish; }
run_phase build BUILD || finish
umount /ovl || umount -l /ovl
set -- $BUILD
[ "$1" = 0 ] || finish
mount -t overlay overlay -o lowerdir=$S/u1:/base,upperdir=$S/u2,workdir=$S/w2 /ovl || { ERROR="cannot mount overlay 2"; finish; }
run_phase install INSTALL || finish
finish
`;
