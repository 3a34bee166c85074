// Takes the kernel out of a freshly made root tree (an architecture whose kernel is Debian's package
// installed by mmdebstrap, not the host's): the kernel image (gunzipped when gzip, which QEMU's
// -kernel boots as is), its modules folder and the static busybox go to the image's build dir,
// and the kernel's files leave the tree, so the guests' root stays the buildd root it was.
import { existsSync, readdirSync } from 'node:fs';
import { cp, copyFile, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { MorphuxError } from '../../domain/errors.js';

export interface TakenKernel {
  version: string;
  /** the kernel QEMU boots */
  kernel: string;
  /** a copy of lib/modules/<version>, modules.dep included */
  modulesDir: string;
  busybox: string;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** `busyboxInTree` is the busybox path inside the tree (/bin/busybox). */
export async function takeRootKernel(tree: string, destDir: string, busyboxInTree: string): Promise<TakenKernel> {
  const boot = path.join(tree, 'boot');
  const versions = (existsSync(boot) ? readdirSync(boot) : []).filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice(8)).sort();
  const version = versions.pop();
  if (!version) throw new MorphuxError('infrastructure', 'the root tree has no kernel in /boot (is the kernel package among the includes?)');
  const modulesSrc = ['usr/lib/modules', 'lib/modules'].map((d) => path.join(tree, d, version)).find((d) => existsSync(d));
  if (!modulesSrc) throw new MorphuxError('infrastructure', `the root tree has no modules for kernel ${version}`);
  if (!existsSync(path.join(modulesSrc, 'modules.dep'))) {
    // depmod reads any architecture's modules; the package leaves modules.dep to its postinst
    await execa('depmod', ['-b', tree, version]);
  }
  const kernel = path.join(destDir, 'vmlinux');
  const vmlinuz = path.join(boot, `vmlinuz-${version}`);
  if (await isGzip(vmlinuz)) await writeFile(kernel, gunzipSync(await readFile(vmlinuz)));
  else await copyFile(vmlinuz, kernel);
  const modulesDir = path.join(destDir, 'modules');
  await cp(modulesSrc, modulesDir, { recursive: true, verbatimSymlinks: true });
  const busybox = path.join(destDir, 'busybox');
  const bb = path.join(tree, busyboxInTree);
  if (!existsSync(bb)) throw new MorphuxError('infrastructure', `the root tree has no ${busyboxInTree} (busybox-static)`);
  await copyFile(bb, busybox);
  for (const f of readdirSync(boot).filter((n) => n.endsWith(`-${version}`))) await rm(path.join(boot, f), { force: true });
  await rm(modulesSrc, { recursive: true, force: true });
  return { version, kernel, modulesDir, busybox };
}
