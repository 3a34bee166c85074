// QemuRunner: the VmRunner that builds one package in a fresh QEMU VM (no network, pristine
// read-only base root, per-build disks), then reads the guest's result tar and measures the install.
import { copyFile, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../lib/logger.js';
import { isMorphuxError } from '../../domain/errors.js';
import type { VmImageDigests } from '../../domain/provenance-statement.js';
import { nowIso } from '../../domain/submission.js';
import { chooseAccel, type AccelChoice } from './accel-probe.js';
import { archProfile } from './arch-profile.js';
import { ensureImage, type ImagePaths } from './base-image.js';
import { makeJobDisks } from './job-disks.js';
import { measureInstall } from './measure-install.js';
import { packBinaries } from './pack-binaries.js';
import { qemuArgs } from './qemu-args.js';
import { readResult, type GuestResult } from './read-result.js';
import { runQemu, type QemuRun } from './run-qemu.js';
import { discardSnapshot, ensureSnapshot, fileDigest, handIn, incomingArgs, qmpArgs, ramFileOf, snapshotArgs, socketDir, type SnapshotSpec } from './vm-snapshot.js';
import type { BuildJob, BuildOutcome, FailureReason, PhaseTimes, VmRunner } from './vm-types.js';

export interface QemuRunnerOptions {
  /** where base images are cached (config: imageDir) */
  imageDir: string;
  log: Logger;
  /** Debian suite of the base image (config builder.suite), default bookworm */
  suite?: string;
  /** config builder.accel, default auto (probe KVM, else TCG) */
  accel?: AccelChoice;
  /** size of the sparse work disk the build and install write to (config builder.scratch_disk_mib) */
  scratchDiskMib?: number;
  /** size of the sparse disk the guest writes its result tar to */
  resultDiskMib?: number;
  /** the build log kept is cut at this many bytes (config builder.log_max_bytes) */
  logMaxBytes?: number;
  /** start each VM by restoring a saved state of the booted base VM (config builder.snapshot) */
  snapshot?: boolean;
}

const cut = (s: string, n = 160): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** sha256 of the base image's root, kernel and initrd (vm-snapshot.ts fileDigest: kept beside each file). */
async function imageDigests(image: ImagePaths): Promise<VmImageDigests> {
  const [root_image, kernel, initrd] = await Promise.all([fileDigest(image.rootImage), fileDigest(image.kernel), fileDigest(image.initrd)]);
  return { root_image, kernel, initrd };
}

export class QemuRunner implements VmRunner {
  private readonly o: Required<QemuRunnerOptions>;

  constructor(opts: QemuRunnerOptions) {
    this.o = { suite: 'bookworm', accel: 'auto', scratchDiskMib: 4096, resultDiskMib: 2048, logMaxBytes: 8 * 1024 * 1024, snapshot: true, ...opts };
  }

  async run(job: BuildJob): Promise<BuildOutcome> {
    const log = this.o.log.child({ pkgid: job.pkgid, arch: job.arch });
    const logFile = path.join(job.workDir, 'build.log');
    const consoleFile = path.join(job.workDir, 'console.log');
    const fail = (reason: FailureReason, message: string, phases: Partial<PhaseTimes> = {}, file = logFile): BuildOutcome =>
      ({ state: 'failed', reason, message, logFile: file, measurements: null, binariesArchive: null, installed: [], phases });
    let vm: QemuRun;
    const startedAt = nowIso();
    try {
      const profile = archProfile(job.arch);
      const image = await ensureImage({ imageDir: this.o.imageDir, arch: job.arch, suite: this.o.suite, log });
      // what the VM boots, for the build's provenance: hashed while it runs (once per file and process)
      const images = imageDigests(image);
      images.catch(() => undefined);
      const accel = await chooseAccel(this.o.accel, profile, image, log);
      const diskOptions = { scratchDiskMib: this.o.scratchDiskMib, resultDiskMib: this.o.resultDiskMib, logMaxBytes: this.o.logMaxBytes };
      let disks = await makeJobDisks(job, diskOptions);
      const run = (args: string[], hand?: (stdin: import('node:stream').Writable) => Promise<void>) => runQemu({
        binary: profile.qemuBinary, args, timeoutSeconds: job.timeoutSeconds, idleSeconds: job.idleSeconds, consoleFile,
        consoleMaxBytes: this.o.logMaxBytes + 64 * 1024,
        onConsole: job.onLog, signal: job.signal, handIn: hand,
      });
      const spec: SnapshotSpec = { profile, image, accel, memoryMib: job.memoryMib, cpus: job.cpus, scratchDiskMib: this.o.scratchDiskMib, resultDiskMib: this.o.resultDiskMib };
      const state = this.o.snapshot ? await ensureSnapshot(spec, log).catch(() => null) : null;
      let restored: QemuRun | null = null;
      if (state) {
        log.info({ accel, state }, 'build VM starting from a snapshot');
        const sockets = await socketDir();
        const socket = path.join(sockets, 'qmp');
        try {
          restored = await run([...snapshotArgs(spec, disks, { file: ramFileOf(state), shared: false }), ...incomingArgs(), ...qmpArgs(socket)], (stdin) => handIn(socket, stdin, state, 30_000));
        } finally {
          await rm(sockets, { recursive: true, force: true });
        }
        if (restored.handInError !== undefined && !restored.aborted) {
          log.warn({ state, why: restored.handInError, stderr: restored.stderrTail.trim().split('\n').pop() }, 'build VM: restoring the snapshot failed; booting cold');
          await discardSnapshot(state);
          disks = await makeJobDisks(job, diskOptions);
          restored = null;
        }
      }
      if (restored) vm = restored;
      else {
        log.info({ accel }, 'build VM starting');
        vm = await run(qemuArgs({ profile, image, accel, memoryMib: job.memoryMib, cpus: job.cpus, disks }));
      }
      log.info({ exit: vm.exitCode, seconds: vm.seconds, timed_out: vm.timedOut, restored: vm.handInSeconds !== undefined }, 'build VM ended');
      const o = await this.outcome(job, vm, disks.resultDisk, { logFile, consoleFile, fail });
      if (o.state !== 'good') return o;
      return { ...o, vm: await images.catch(() => null), started_at: startedAt, finished_at: nowIso() };
    } catch (e) {
      log.error({ err: e }, 'build VM machinery failed');
      await copyFile(consoleFile, logFile).catch(() => writeFile(logFile, '').catch(() => undefined));
      return fail('infrastructure', isMorphuxError(e) ? e.message : `runner error: ${(e as Error).message}`);
    }
  }

  private async outcome(
    job: BuildJob, vm: QemuRun, resultDisk: string,
    f: { logFile: string; consoleFile: string; fail: (r: FailureReason, m: string, p?: Partial<PhaseTimes>, file?: string) => BuildOutcome },
  ): Promise<BuildOutcome> {
    const total = { total_seconds: vm.seconds };
    if (vm.timedOut) {
      await this.keepLog(f.consoleFile, f.logFile);
      return f.fail('timeout', vm.timeoutKind === 'idle'
        ? `the build printed nothing for ${job.idleSeconds} s (log idle limit)`
        : `the build exceeded its time limit of ${job.timeoutSeconds} s`, total);
    }
    if (vm.aborted) {
      await this.keepLog(f.consoleFile, f.logFile);
      return f.fail('infrastructure', 'the build was aborted', total);
    }
    if (vm.spawnError) return f.fail('infrastructure', `QEMU did not start: ${cut(vm.spawnError)}`, total, f.consoleFile);
    let res;
    try {
      res = await readResult(resultDisk, path.join(job.workDir, 'result'));
    } catch (e) {
      await this.keepLog(f.consoleFile, f.logFile);
      const why = isMorphuxError(e) ? e.message : String(e);
      const qemu = vm.stderrTail.trim().split('\n').pop() ?? '';
      return f.fail('infrastructure', cut(`${why} (QEMU exit ${vm.exitCode}${qemu ? `: ${qemu}` : ''})`, 300), total);
    }
    await this.keepLog(res.buildLog, f.logFile);
    const g = res.result;
    // boot: VM start to the first build command. A restored guest's uptime resumed at the saved
    // one, so its boot is the host's time to the hand-in plus the guest's time from there.
    const restoredIn = vm.handInSeconds;
    const boot = restoredIn !== undefined && g.go_uptime != null ? restoredIn + Math.max(0, g.boot_uptime - g.go_uptime) : g.boot_uptime;
    const phases: Partial<PhaseTimes> = {
      boot_seconds: Math.round(boot * 1000) / 1000, total_seconds: vm.seconds,
      ...(restoredIn !== undefined ? { restore_seconds: Math.round(restoredIn * 1000) / 1000 } : {}),
      ...(g.build ? { build_seconds: g.build.seconds } : {}), ...(g.install ? { install_seconds: g.install.seconds } : {}),
    };
    const failure = this.guestFailure(job, g);
    if (failure) return f.fail(failure.reason, failure.message, phases);
    if (g.arch !== job.arch) return f.fail('infrastructure', `the VM reports arch ${g.arch}, not ${job.arch}`, phases);
    // both only read the upper layer: measured and packed side by side
    const binariesArchive = path.join(job.workDir, 'binaries.tar.gz');
    const [m] = await Promise.all([
      measureInstall({ upperDir: res.upperDir, existed: res.existed, arch: job.arch, compileSeconds: g.build!.seconds }),
      packBinaries(res.upperDir, binariesArchive, job.environment?.source_date_epoch),
    ]);
    return {
      state: 'good', reason: null, message: 'built', logFile: f.logFile,
      measurements: m.measurements, binariesArchive, installed: m.installed, phases,
    };
  }

  private guestFailure(job: BuildJob, g: GuestResult): { reason: FailureReason; message: string } | null {
    if (g.error) return { reason: 'infrastructure', message: `in the VM: ${g.error}` };
    if (g.deps.status !== 0) return { reason: 'infrastructure', message: 'installing the dependencies in the VM failed' };
    for (const phase of ['build', 'install'] as const) {
      const r = g[phase];
      if (!r) return { reason: 'infrastructure', message: `the VM did not run the ${phase} phase` };
      if (r.status === 0) continue;
      const cmd = (job.manifest[phase] ?? [])[r.failed_step - 1];
      return {
        reason: 'build',
        message: cmd === undefined
          ? `the ${phase} phase ended with status ${r.status}`
          : `${phase} step ${r.failed_step} (${cut(cmd, 120)}) exited with status ${r.status}`,
      };
    }
    return null;
  }

  /** Copies a log to the job's build.log, cut at logMaxBytes. */
  private async keepLog(from: string, to: string): Promise<void> {
    try {
      const fh = await open(from, 'r');
      try {
        const size = (await fh.stat()).size;
        const n = Math.min(size, this.o.logMaxBytes);
        const buf = Buffer.alloc(n);
        await fh.read(buf, 0, n, 0);
        const note = size > n ? `\n[morphux: log cut at ${n} of ${size} bytes]\n` : '';
        await writeFile(to, Buffer.concat([buf, Buffer.from(note)]));
      } finally {
        await fh.close();
      }
    } catch {
      await writeFile(to, '').catch(() => undefined);
    }
  }
}
