#!/usr/bin/env bash
# Morphux host setup: idempotent and fast when everything is present.
#  - Debian packages the build VMs need (as root: apt-get; otherwise prints what to install)
#  - npm ci when node_modules is missing or package-lock.json changed since the last install
#  - npm run build when dist/ is missing or older than src/
#  - with --image: the base VM image (morphux image build)
#  - with --arch aarch64: what aarch64 builds need (qemu-system-arm; binfmt_misc with qemu-user-static,
#    which mmdebstrap needs to make an arm64 root), and with --image the aarch64 image too
# Usage: scripts/setup.sh [--quiet] [--image] [--arch aarch64]
set -euo pipefail
cd "$(dirname "$0")/.."

QUIET=0; IMAGE=0; ARCHES=(x86_64); next_is_arch=0
for a in "$@"; do
  if [ "$next_is_arch" = 1 ]; then ARCHES+=("$a"); next_is_arch=0; continue; fi
  case "$a" in
    --quiet) QUIET=1 ;;
    --image) IMAGE=1 ;;
    --arch) next_is_arch=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }
warn() { echo "setup: $*" >&2; }

# 1. host packages
PKGS=(curl qemu-system-x86 qemu-utils linux-image-amd64 busybox-static mmdebstrap cpio e2fsprogs xz-utils chromium vsftpd openssl zstd redis-server nginx)
for arch in "${ARCHES[@]}"; do
  case "$arch" in
    x86_64) ;;
    aarch64) PKGS+=(qemu-system-arm qemu-user-static binfmt-support arch-test) ;;
    *) echo "setup.sh: unknown arch $arch" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    out=/dev/stdout; [ "$QUIET" = 1 ] && out=/dev/null
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >"$out"
    apt-get install -y --no-install-recommends "${missing[@]}" >"$out"
    # nginx is only a reference for bench/read-path.ts, which starts its own: never a system service
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      { systemctl disable --now nginx || { invoke-rc.d nginx stop; update-rc.d nginx disable; }; } >/dev/null 2>&1 || true
    fi
  else
    warn "missing Debian packages (VM builds need them): ${missing[*]}"
    warn "install them as root: apt-get update && apt-get install -y ${missing[*]}"
  fi
else
  say "host packages present"
fi

# 1b. a foreign root (arm64 on x86_64) runs its maintainer scripts through qemu-user: binfmt_misc
for arch in "${ARCHES[@]}"; do
  [ "$arch" = aarch64 ] && [ "$(uname -m)" != aarch64 ] || continue
  if arch-test arm64 >/dev/null 2>&1; then say "binfmt for arm64 ready"; continue; fi
  if [ "$(id -u)" != 0 ]; then warn "arm64 binfmt missing: run as root"; continue; fi
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64
  arch-test arm64 >/dev/null || warn "arm64 binfmt still not working"
done

# 2. node modules
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.morphux-lock-sha256
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  say "npm ci"
  if [ "$QUIET" = 1 ]; then npm ci --no-audit --no-fund --loglevel=error >/dev/null; else npm ci --no-audit --no-fund; fi
  echo "$lock_sha" > "$stamp"
else
  say "node_modules up to date"
fi

# 3. build
if [ ! -f dist/.built ] || [ -n "$(find src package.json tsconfig.json tsconfig.build.json -newer dist/.built -print -quit 2>/dev/null)" ]; then
  say "npm run build"
  if [ "$QUIET" = 1 ]; then npm run --silent build >/dev/null; else npm run build; fi
  touch dist/.built
else
  say "dist up to date"
fi

# 4. base image
if [ "$IMAGE" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    warn "not root: cannot build the base VM image (mmdebstrap needs root); VM builds will fail until it exists"
  elif [ -f dist/cli/morphux.js ]; then
    say "base image"
    for arch in "${ARCHES[@]}"; do node dist/cli/morphux.js image build --arch "$arch"; done
  else
    say "base image (through tsx)"
    for arch in "${ARCHES[@]}"; do npx tsx src/cli/morphux.ts image build --arch "$arch"; done
  fi
fi
