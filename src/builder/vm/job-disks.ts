// Per-build disks in the job's workDir: work.ext4 (src/, deps/, guest scripts, job.json, and the
// free space the overlays' upper layers grow into; sparse) and result.img (raw, sparse), which the
// guest fills with one tar stream.
import { chmod, copyFile, cp, mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { MorphuxError } from '../../domain/errors.js';
import { GUEST_RUN_SCRIPT } from './guest-run-script.js';
import { phaseScript } from './phase-script.js';
import type { BuildEnvironment } from '../../domain/rebuild.js';
import type { BuildJob } from './vm-types.js';

export interface JobDisks {
  workDisk: string;
  resultDisk: string;
}

export interface JobDiskOptions {
  scratchDiskMib: number;
  resultDiskMib: number;
  /** the guest keeps at most this many bytes of build log */
  logMaxBytes?: number;
}

/** Makes every directory of a copied tree writable by its owner, so the caller can remove workDir. */
async function ownerWritableDirs(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await ownerWritableDirs(path.join(dir, e.name));
  }
}

export async function makeJobDisks(job: BuildJob, opts: JobDiskOptions): Promise<JobDisks> {
  const stage = path.join(job.workDir, 'stage');
  const workDisk = path.join(job.workDir, 'work.ext4');
  const resultDisk = path.join(job.workDir, 'result.img');
  await rm(stage, { recursive: true, force: true });
  await mkdir(path.join(stage, 'deps'), { recursive: true });
  await mkdir(path.join(stage, 'guest'));
  try {
    await cp(job.sourceDir, path.join(stage, 'src'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await ownerWritableDirs(path.join(stage, 'src'));
    for (const [i, dep] of job.dependencies.entries()) {
      await copyFile(dep.archive, path.join(stage, 'deps', `${String(i + 1).padStart(3, '0')}-${dep.name}.tar.gz`));
    }
    const build = job.manifest.build ?? [];
    const install = job.manifest.install ?? [];
    await writeFile(path.join(stage, 'guest/run.sh'), GUEST_RUN_SCRIPT, { mode: 0o755 });
    const env = job.environment;
    await writeFile(path.join(stage, 'guest/env.sh'), `LOG_MAX_BYTES=${opts.logMaxBytes ?? 8 * 1024 * 1024}\n${env ? guestEnvironment(env) : ''}`);
    await writeFile(path.join(stage, 'guest/build.sh'), phaseScript('build', build, env), { mode: 0o755 });
    await writeFile(path.join(stage, 'guest/install.sh'), phaseScript('install', install, env), { mode: 0o755 });
    await writeFile(path.join(stage, 'job.json'), JSON.stringify({
      pkgid: job.pkgid, name: job.manifest.name, version: job.manifest.version, arch: job.arch,
      build, install, timeout_seconds: job.timeoutSeconds,
      dependencies: job.dependencies.map((d) => ({ pkgid: d.pkgid, name: d.name, version: d.version })),
      ...(env ? { environment: env } : {}),
    }, null, 2) + '\n');
    await mkfsWork(stage, workDisk, opts.scratchDiskMib);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  await sparseFile(resultDisk, opts.resultDiskMib);
  return { workDisk, resultDisk };
}

/** guest/env.sh's lines for what run.sh sets outside the chroot: the host name and the clock shift. */
export function guestEnvironment(env: BuildEnvironment): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(env.hostname)) throw new RangeError(`bad host name ${env.hostname}`);
  return `MORPHUX_HOSTNAME=${env.hostname}\nMORPHUX_CLOCK_SHIFT=${Math.trunc(env.clock_shift_seconds)}\n`;
}

/**
 * The disks a VM is saved with (vm-snapshot.ts): of the exact sizes of a job's (a restored guest
 * sees the sizes it was saved with), the work disk holding only guest/run.sh and guest/waiter.sh.
 */
export async function makePlaceholderDisks(dir: string, o: { scratchDiskMib: number; resultDiskMib: number; guest: Record<string, string> }): Promise<JobDisks> {
  const stage = path.join(dir, 'stage');
  const workDisk = path.join(dir, 'work.ext4');
  const resultDisk = path.join(dir, 'result.img');
  await mkdir(path.join(stage, 'guest'), { recursive: true });
  try {
    for (const [name, text] of Object.entries(o.guest)) await writeFile(path.join(stage, 'guest', name), text, { mode: 0o755 });
    await mkfsWork(stage, workDisk, o.scratchDiskMib);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  await sparseFile(resultDisk, o.resultDiskMib);
  return { workDisk, resultDisk };
}

/**
 * The work disk: no journal (it lives for one build), and its inode tables marked zeroed
 * (assume_storage_prezeroed: mkfs.ext4 makes a new sparse file, which reads as zeros). Without
 * the mark the guest's kernel zeroes them itself after mounting (ext4lazyinit, ~64 MiB written
 * for a 4 GiB disk) while the build runs. A disk left by an earlier try is removed first: mkfs
 * would write over it, and its old blocks are not zeros.
 */
async function mkfsWork(stage: string, workDisk: string, mib: number): Promise<void> {
  await rm(workDisk, { force: true });
  const mk = await execa('mkfs.ext4', [
    '-q', '-F', '-O', '^has_journal', '-E', 'root_owner=0:0,assume_storage_prezeroed=1', '-L', 'morphux-work',
    '-d', stage, workDisk, `${mib}M`,
  ], { reject: false, all: true });
  if (mk.exitCode !== 0) throw new MorphuxError('infrastructure', `mkfs.ext4 of the work disk failed: ${mk.all}`);
}

async function sparseFile(file: string, mib: number): Promise<void> {
  const fh = await open(file, 'w');
  try { await fh.truncate(mib * 1024 * 1024); } finally { await fh.close(); }
}
