// Builds the base root disk: a Debian buildd root made by mmdebstrap (gcc, make, dpkg-dev…),
// turned into an ext4 image with mkfs.ext4 -d. Guests mount it read-only under an overlay.
// A foreign architecture (arm64 on an x86_64 host) needs binfmt_misc with qemu-user-static.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../../lib/logger.js';
import { MorphuxError } from '../../domain/errors.js';

export interface RootImageSpec {
  debArch: string;
  suite: string;
  /** extra packages (mmdebstrap --include); a kernel among them never runs update-initramfs */
  includes?: string[];
}

/** Our own initramfs is used, so a kernel installed into the root must not build one (slow under qemu-user). */
const NO_INITRAMFS_HOOK = '--essential-hook=chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"';

const DEB_ARCH_OF_HOST: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** Why mmdebstrap cannot make a root of `debArch` here, or null when it can (same arch, or binfmt ready). */
export async function foreignArchProblem(debArch: string): Promise<string | null> {
  if (DEB_ARCH_OF_HOST[process.arch] === debArch) return null;
  const r = await execa('arch-test', [debArch], { reject: false, all: true });
  if (r.exitCode === 0) return null;
  return `this host cannot run ${debArch} programs (binfmt_misc with qemu-user-static), which mmdebstrap needs for a ${debArch} root: run scripts/setup.sh --arch aarch64 as root (arch-test: ${String(r.all ?? r.shortMessage).trim().split('\n').pop()})`;
}

const HOST_SOURCES = '/etc/apt/sources.list.d/debian.sources';
const MIRROR = 'http://deb.debian.org/debian';

/** The mirror argument: the host's deb822 sources when they are for the same suite, else Debian's mirror. */
export function mmdebstrapMirrors(suite: string, sourcesFile = HOST_SOURCES): string[] {
  if (!existsSync(sourcesFile)) return [MIRROR];
  const text = readFileSync(sourcesFile, 'utf8');
  const suites = [...text.matchAll(/^Suites:\s*(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  return suites.includes(suite) ? [sourcesFile] : [MIRROR];
}

export function mmdebstrapArgs(spec: RootImageSpec, dir: string): string[] {
  const extra = spec.includes?.length ? [`--include=${spec.includes.join(',')}`, NO_INITRAMFS_HOOK] : [];
  return [
    '--variant=buildd', `--arch=${spec.debArch}`,
    '--aptopt=Acquire::Check-Valid-Until "false"', ...extra,
    spec.suite, dir, ...mmdebstrapMirrors(spec.suite),
  ];
}

/** `beforeImage` sees the finished root tree before it becomes root.ext4 (to take the kernel out). */
export async function buildRootImage(spec: RootImageSpec, dest: string, log: Logger, beforeImage?: (tree: string) => Promise<void>): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new MorphuxError('infrastructure', 'building the base image needs root (mmdebstrap and mkfs.ext4 -d of a root tree): run scripts/setup.sh --image as root');
  }
  const foreign = await foreignArchProblem(spec.debArch);
  if (foreign) throw new MorphuxError('infrastructure', foreign, { arch: spec.debArch });
  const tree = `${dest}.tree`;
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree);
  try {
    const t0 = Date.now();
    log.info({ suite: spec.suite, arch: spec.debArch }, 'base image: mmdebstrap');
    const mm = await execa('mmdebstrap', mmdebstrapArgs(spec, tree), { reject: false, all: true });
    if (mm.exitCode !== 0) {
      throw new MorphuxError('infrastructure', `mmdebstrap failed (${mm.exitCode}): ${String(mm.all).split('\n').slice(-5).join(' | ')}`);
    }
    log.info({ seconds: (Date.now() - t0) / 1000 }, 'base image: root tree ready');
    await beforeImage?.(tree);
    const du = await execa('du', ['-s', '--block-size=1M', tree]);
    const usedMib = Number(du.stdout.split(/\s/)[0]);
    const sizeMib = Math.ceil(usedMib * 1.25) + 256;
    await execa('mkfs.ext4', ['-q', '-F', '-L', 'morphux-root', '-E', 'root_owner=0:0', '-d', tree, dest, `${sizeMib}M`]);
    log.info({ usedMib, sizeMib, file: path.basename(dest) }, 'base image: ext4 image written');
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
