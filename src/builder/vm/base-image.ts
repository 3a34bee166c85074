// The cached base image of one architecture: root.ext4 (Debian buildd root), vmlinux (the host's
// kernel for PVH boot, or the arch's Debian kernel taken out of the root) and initrd.cpio.gz,
// under imageDir/<arch>-<recipe hash>/. Built once into a temp dir and renamed,
// under a lock so two processes never build it at once; a ready image is returned at once.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Arch } from '../../domain/arch.js';
import type { Logger } from '../../lib/logger.js';
import { archProfile } from './arch-profile.js';
import { buildInitrd } from './build-initrd.js';
import { buildRootImage, mmdebstrapArgs } from './build-root-image.js';
import { extractVmlinux, hostKernel } from './host-kernel.js';
import { INITRD_INIT } from './initrd-init.js';
import { takeRootKernel } from './root-kernel.js';

export interface ImagePaths {
  dir: string;
  rootImage: string;
  kernel: string;
  initrd: string;
}

export interface EnsureImageOptions {
  imageDir: string;
  arch: Arch;
  suite: string;
  log: Logger;
}

const RECIPE_VERSION = 1;
const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);

function fileId(p: string): string {
  const st = statSync(p);
  return `${p}:${st.size}:${Math.floor(st.mtimeMs)}`;
}

function recipe(opts: EnsureImageOptions) {
  const prof = archProfile(opts.arch);
  const kernel = prof.kernelSource === 'host' ? hostKernel() : null;
  const spec = { debArch: prof.debArch, suite: opts.suite, includes: prof.rootIncludes };
  const mirrors = mmdebstrapArgs(spec, 'DIR');
  const sources = mirrors.filter((m) => m.startsWith('/')).map((f) => readFileSync(f, 'utf8'));
  const root = { v: RECIPE_VERSION, debArch: prof.debArch, suite: opts.suite, mirrors, sources };
  const boot = kernel
    ? { kernel: fileId(kernel.vmlinuz), busybox: fileId(prof.busybox), modules: prof.modules, init: INITRD_INIT }
    : { kernel: 'root', modules: prof.modules, init: INITRD_INIT };
  return { prof, spec, kernel, root, rootHash: sha(root), hash: sha({ root, boot }) };
}

function paths(dir: string): ImagePaths {
  return { dir, rootImage: path.join(dir, 'root.ext4'), kernel: path.join(dir, 'vmlinux'), initrd: path.join(dir, 'initrd.cpio.gz') };
}

/** A root.ext4 with the same root recipe in another image dir (say, built before a kernel update). */
function reusableRoot(imageDir: string, arch: Arch, rootHash: string): string | null {
  for (const d of existsSync(imageDir) ? readdirSync(imageDir) : []) {
    if (!d.startsWith(`${arch}-`) || d.includes('.')) continue;
    try {
      const r = JSON.parse(readFileSync(path.join(imageDir, d, 'recipe.json'), 'utf8')) as { root_hash?: string };
      if (r.root_hash === rootHash) return path.join(imageDir, d, 'root.ext4');
    } catch { /* not an image */ }
  }
  return null;
}

async function buildInto(tmp: string, r: ReturnType<typeof recipe>, opts: EnsureImageOptions): Promise<void> {
  const p = paths(tmp);
  if (!r.kernel) {
    // the kernel comes out of the root tree, so the root is always built here (no reuse)
    let taken: Awaited<ReturnType<typeof takeRootKernel>> | null = null;
    await buildRootImage(r.spec, p.rootImage, opts.log, async (tree) => { taken = await takeRootKernel(tree, tmp, r.prof.busybox); });
    const t = taken as Awaited<ReturnType<typeof takeRootKernel>> | null;
    if (!t) throw new Error('unreachable: no kernel taken from the root tree');
    await buildInitrd({ busybox: t.busybox, modulesDir: t.modulesDir, modules: r.prof.modules }, p.initrd);
    await rm(t.modulesDir, { recursive: true, force: true });
    await rm(t.busybox, { force: true });
    await writeRecipe(tmp, r, opts, t.version);
    return;
  }
  const again = reusableRoot(opts.imageDir, opts.arch, r.rootHash);
  if (again) {
    opts.log.info({ from: again }, 'base image: reusing a root image of the same recipe');
    await link(again, p.rootImage).catch(() => copyFile(again, p.rootImage));
  } else {
    await buildRootImage({ debArch: r.prof.debArch, suite: opts.suite }, p.rootImage, opts.log);
  }
  opts.log.info({ kernel: r.kernel.version }, 'base image: extracting the kernel');
  await extractVmlinux(r.kernel.vmlinuz, p.kernel);
  await buildInitrd({ busybox: r.prof.busybox, modulesDir: r.kernel.modulesDir, modules: r.prof.modules }, p.initrd);
  await writeRecipe(tmp, r, opts, r.kernel.version);
}

async function writeRecipe(tmp: string, r: ReturnType<typeof recipe>, opts: EnsureImageOptions, kernel: string): Promise<void> {
  await writeFile(path.join(tmp, 'recipe.json'), JSON.stringify({
    arch: opts.arch, suite: opts.suite, hash: r.hash, root_hash: r.rootHash, kernel,
    built_at: new Date().toISOString(),
  }, null, 2) + '\n');
}

export async function ensureImage(opts: EnsureImageOptions): Promise<ImagePaths> {
  const r = recipe(opts);
  const dir = path.join(opts.imageDir, `${opts.arch}-${r.hash}`);
  const ready = () => existsSync(path.join(dir, 'recipe.json'));
  if (ready()) return paths(dir);
  await mkdir(opts.imageDir, { recursive: true });
  opts.log.info({ dir }, 'base image: waiting for the build lock');
  const release = await lockfile.lock(dir, {
    realpath: false, lockfilePath: `${dir}.lock`, stale: 30_000, update: 5_000,
    retries: { retries: 1800, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
  });
  try {
    if (ready()) return paths(dir);
    const t0 = Date.now();
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    try {
      await buildInto(tmp, r, opts);
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    opts.log.info({ dir, seconds: (Date.now() - t0) / 1000 }, 'base image: ready');
    return paths(dir);
  } finally {
    await release();
  }
}
