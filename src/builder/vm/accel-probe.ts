// Chooses the accelerator: KVM only when a short probe boot under it reaches the guest's init and
// powers off within a few seconds (on some hosts a KVM guest hangs or QEMU aborts), else TCG.
// The answer is cached per process and on disk per host boot.
import { constants, existsSync, readFileSync } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../../lib/logger.js';
import type { ArchProfile } from './arch-profile.js';
import type { ImagePaths } from './base-image.js';
import { qemuArgs, type Accel } from './qemu-args.js';

export type AccelChoice = 'auto' | Accel;

const PROBE_SECONDS = 8;
const memo = new Map<string, Promise<Accel>>();

function bootId(): string {
  try { return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { return 'unknown'; }
}

/** Boots the image's kernel with `morphux.probe` under KVM; true when it says so and exits in time. */
export async function probeKvm(profile: ArchProfile, image: ImagePaths, seconds = PROBE_SECONDS): Promise<boolean> {
  try { await access('/dev/kvm', constants.R_OK | constants.W_OK); } catch { return false; }
  const args = qemuArgs({ profile, image, accel: 'kvm', memoryMib: 256, cpus: 1, extraCmdline: ['morphux.probe'] });
  const child = execa(profile.qemuBinary, args, { detached: true, stdin: 'ignore', reject: false, all: true });
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, seconds * 1000);
  const r = await child;
  clearTimeout(timer);
  return r.exitCode === 0 && String(r.all).includes('MORPHUX-PROBE-OK');
}

export async function chooseAccel(choice: AccelChoice, profile: ArchProfile, image: ImagePaths, log: Logger): Promise<Accel> {
  if (choice !== 'auto') return choice;
  if (!profile.kvmPossible) return 'tcg';
  const key = `${profile.arch}:${image.dir}`;
  let p = memo.get(key);
  if (!p) {
    p = (async () => {
      const cacheFile = path.join(image.dir, '..', `accel-${profile.arch}.json`);
      const id = bootId();
      if (existsSync(cacheFile)) {
        try {
          const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as { boot_id: string; kernel: string; accel: Accel };
          if (c.boot_id === id && c.kernel === image.kernel) return c.accel;
        } catch { /* probe again */ }
      }
      const t0 = Date.now();
      const accel: Accel = (await probeKvm(profile, image)) ? 'kvm' : 'tcg';
      log.info({ accel, probe_seconds: (Date.now() - t0) / 1000 }, 'accelerator chosen by a probe boot');
      await mkdir(path.dirname(cacheFile), { recursive: true });
      await writeFile(cacheFile, JSON.stringify({ boot_id: id, kernel: image.kernel, accel }) + '\n');
      return accel;
    })();
    memo.set(key, p);
  }
  return p;
}
