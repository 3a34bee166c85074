#!/usr/bin/env bash
# Morphux host setup: idempotent and fast when everything is present.
#  - Debian packages the build VMs need (as root: apt-get; otherwise prints what to install)
#  - npm ci when node_modules is missing or package-lock.json changed since the last install
#  - npm run build when dist/ is missing or older than src/
#  - with --image: the base VM image (morphux image build)
# Usage: scripts/setup.sh [--quiet] [--image]
set -euo pipefail
cd "$(dirname "$0")/.."

QUIET=0; IMAGE=0
for a in "$@"; do
  case "$a" in
    --quiet) QUIET=1 ;;
    --image) IMAGE=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }
warn() { echo "setup: $*" >&2; }

# 1. host packages
PKGS=(qemu-system-x86 qemu-utils linux-image-amd64 busybox-static mmdebstrap cpio e2fsprogs xz-utils)
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
  else
    warn "missing Debian packages (VM builds need them): ${missing[*]}"
    warn "install them as root: apt-get update && apt-get install -y ${missing[*]}"
  fi
else
  say "host packages present"
fi

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
    node dist/cli/morphux.js image build
  else
    say "base image (through tsx)"
    npx tsx src/cli/morphux.ts image build
  fi
fi
