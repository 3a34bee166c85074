// Build VMs started from a saved state (issue "builds a distribution can prove", item 1): the base
// VM of an image boots once to the point where the guest waits for its job (snapshot-guest.ts), its
// whole state is saved (QMP migrate to a file), and each job's VM restores it with the job's own
// disks in place of the placeholders, then gets its hand-in line. Each job still gets a machine
// that saw no other job: the saved one never ran a job, its root disk is read-only, its work and
// result disks are the job's, and it has no network.
//
// The state is keyed by everything it depends on (snapshotKey): QEMU's version and binary, the
// whole command line (machine, CPU, memory, devices, kernel command line), the digests of kernel,
// initrd and root image, the disk sizes and the waiter; any change makes a new one. It is made under
// a lock, into a temp file renamed into place, once per key; a failure to make or restore it is
// logged and the build boots cold instead (qemu-runner.ts).
// Measured before building it: ../shared/notes/vm-snapshot.md.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import type { Writable } from 'node:stream';
import type { Logger } from '../../lib/logger.js';
import type { ArchProfile } from './arch-profile.js';
import type { ImagePaths } from './base-image.js';
import { makePlaceholderDisks } from './job-disks.js';
import { Qmp } from './qmp.js';
import { qemuArgs, type Accel } from './qemu-args.js';
import { GO_HELPER_C, SNAPSHOT_READY, WAITER_ENTRY, WAITER_SCRIPT } from './snapshot-guest.js';

/** Bumped when the way a state is made or used changes in a way the key does not see. */
const SNAPSHOT_FORMAT = 2;

export interface SnapshotSpec {
  profile: ArchProfile;
  image: ImagePaths;
  accel: Accel;
  memoryMib: number;
  cpus: number;
  scratchDiskMib: number;
  resultDiskMib: number;
}

const PLACEHOLDER = { workDisk: '@WORK@', resultDisk: '@RESULT@' };
/** The placeholder work disk's guest/ files. */
const PLACEHOLDER_GUEST = { 'run.sh': WAITER_ENTRY, 'waiter.sh': WAITER_SCRIPT, 'morphux-go.c': GO_HELPER_C };

/** A short folder for QMP sockets (a unix socket path is at most 107 bytes). */
export async function socketDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'mx-qmp-'));
}

const memo = new Map<string, Promise<string>>();
const once = (k: string, f: () => Promise<string>): Promise<string> => {
  let p = memo.get(k);
  if (!p) {
    p = f();
    p.catch(() => memo.delete(k));
    memo.set(k, p);
  }
  return p;
};

const fileId = (p: string): string => {
  const st = statSync(p);
  return `${p}:${st.dev}:${st.ino}:${st.size}:${Math.floor(st.mtimeMs)}`;
};

/** sha256 of a file, once per process per (inode, size, mtime); the root image's is also kept on disk beside it. */
export function fileDigest(p: string): Promise<string> {
  const id = fileId(p);
  return once(`sha:${id}`, async () => {
    const memoFile = `${p}.sha256`;
    const kept = await readFile(memoFile, 'utf8').catch(() => '');
    const [sha, keptId] = kept.trim().split(' ');
    if (sha && keptId === id) return sha;
    const h = createHash('sha256');
    await pipeline(createReadStream(p), h);
    const digest = h.digest('hex');
    await writeFile(memoFile, `${digest} ${id}\n`).catch(() => undefined);
    return digest;
  });
}

/** `qemu-system-… --version` and the binary's identity. */
function qemuIdentity(binary: string): Promise<string> {
  return once(`qemu:${binary}`, async () => {
    const v = await execa(binary, ['--version']);
    const which = await execa('sh', ['-c', `command -v ${binary}`]);
    return `${v.stdout.split('\n')[0]} ${fileId(which.stdout.trim())}`;
  });
}

/** The digest that names a saved state: everything the restore must match. */
export async function snapshotKey(s: SnapshotSpec): Promise<string> {
  const [qemu, kernel, initrd, root] = await Promise.all([
    qemuIdentity(s.profile.qemuBinary), fileDigest(s.image.kernel), fileDigest(s.image.initrd), fileDigest(s.image.rootImage),
  ]);
  const args = snapshotArgs(s, PLACEHOLDER, { file: '@RAM@', shared: false });
  return createHash('sha256').update(JSON.stringify({
    format: SNAPSHOT_FORMAT, qemu, kernel, initrd, root, args,
    disks: [s.scratchDiskMib, s.resultDiskMib], waiter: PLACEHOLDER_GUEST,
  })).digest('hex').slice(0, 16);
}

/**
 * The command line a saved VM and its restores share (but for -incoming and the QMP socket). Guest
 * RAM is a file: the saving VM maps it shared, so its RAM is the file when it stops; a restore maps
 * it private, so pages are read from the host's page cache as the guest touches them and every
 * write is the job's own copy (the file never changes). Without this a restore wrote the state into
 * fresh anonymous memory, 1 GiB of it in huge pages: 0.4 s right after another VM, 3 s after the
 * host idled (slower than a cold boot); mapped, 0.2–0.3 s either way.
 */
export function snapshotArgs(s: SnapshotSpec, disks: { workDisk: string; resultDisk: string }, ram: { file: string; shared: boolean }): string[] {
  return [
    ...qemuArgs({ profile: s.profile, image: s.image, accel: s.accel, memoryMib: s.memoryMib, cpus: s.cpus, disks }),
    '-object', `memory-backend-file,id=morphux-ram,size=${s.memoryMib}M,mem-path=${ram.file},share=${ram.shared ? 'on' : 'off'}`,
    '-machine', 'memory-backend=morphux-ram',
  ];
}

/** The guest RAM file saved with a state. */
export const ramFileOf = (stateFile: string): string => stateFile.replace(/\.state$/, '.ram');

export const qmpArgs = (socket: string): string[] => ['-qmp', `unix:${socket},server=on,wait=off`];

/** A restore waits for its state on QMP (handIn), which first says that RAM is not in it. */
export const incomingArgs = (): string[] => ['-incoming', 'defer'];

/** RAM mapped from a file is not in the migration stream (saved state ~0.5 MB). */
const IGNORE_SHARED = { capabilities: [{ capability: 'x-ignore-shared', state: true }] };
const catOf = (file: string) => `'${file.replace(/'/g, `'\\''`)}'`;

/** States kept per image folder: the newest used (a restore touches its file). */
const KEEP = 4;
/** A state that could not be made is not tried again for this long (each try may take minutes). */
const RETRY_AFTER_MS = 60 * 60 * 1000;
const failedAt = new Map<string, number>();

/**
 * The saved state for this spec: made now when missing (under a lock, ~5–10 s), its path returned.
 * Throws when it cannot be made (or could not be, less than an hour ago); the caller boots cold.
 */
export async function ensureSnapshot(s: SnapshotSpec, log: Logger): Promise<string> {
  const key = await snapshotKey(s);
  const dir = path.join(s.image.dir, 'snapshots');
  const file = path.join(dir, `${s.profile.arch}-${s.accel}-${key}.state`);
  const ready = () => existsSync(file) && existsSync(ramFileOf(file));
  if (ready()) {
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    return file;
  }
  const failed = failedAt.get(file);
  if (failed !== undefined && Date.now() - failed < RETRY_AFTER_MS) throw new Error(`the snapshot ${path.basename(file)} could not be made at ${new Date(failed).toISOString()}`);
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(file, {
    realpath: false, lockfilePath: `${file}.lock`, stale: 30_000, update: 5_000,
    retries: { retries: 300, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
  });
  try {
    if (ready()) return file;
    const t0 = Date.now();
    try {
      await saveState(s, file, log);
    } catch (e) {
      failedAt.set(file, Date.now());
      throw e;
    }
    log.info({ file, seconds: (Date.now() - t0) / 1000, bytes: statSync(file).size, ram_bytes_used: statSync(ramFileOf(file)).blocks * 512 }, 'build VM snapshot: saved');
    await prune(dir, KEEP);
    return file;
  } finally {
    await release();
  }
}

/** Forgets a state that did not restore (a damaged file, a host that changed under it): the next build makes it again. */
export async function discardSnapshot(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(ramFileOf(file), { force: true });
}

/** Removes all but the `keep` most recently used states of a folder. */
async function prune(dir: string, keep: number): Promise<void> {
  const states = [];
  for (const n of await readdir(dir)) {
    if (!n.endsWith('.state')) continue;
    const st = await stat(path.join(dir, n)).catch(() => null);
    if (st) states.push({ n, t: st.mtimeMs });
  }
  states.sort((a, b) => b.t - a.t);
  for (const { n } of states.slice(keep)) await discardSnapshot(path.join(dir, n));
}

/** Boots the waiter VM on placeholder disks, waits for it, and migrates its state into `file`. */
async function saveState(s: SnapshotSpec, file: string, log: Logger): Promise<void> {
  const work = await mkdtemp(path.join(path.dirname(file), '.make-'));
  const sockets = await socketDir();
  const socket = path.join(sockets, 'qmp');
  const tmp = path.join(work, 'state');
  const ram = path.join(work, 'ram');
  const disks = await makePlaceholderDisks(work, { scratchDiskMib: s.scratchDiskMib, resultDiskMib: s.resultDiskMib, guest: PLACEHOLDER_GUEST });
  const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', s.profile.qemuBinary, ...snapshotArgs(s, disks, { file: ram, shared: true }), ...qmpArgs(socket)], {
    detached: true, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false,
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-2000); });
  const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the waiter did not get ready in 180 s: ${out.slice(-300)}`)), 180_000);
      child.stdout?.on('data', (c: Buffer) => {
        out = (out + c.toString()).slice(-4000);
        if (out.includes(SNAPSHOT_READY)) { clearTimeout(timer); resolve(); }
      });
      void child.then((r) => { clearTimeout(timer); reject(new Error(`QEMU exited (${r.exitCode}) before the waiter was ready: ${err.trim().split('\n').pop() ?? ''} ${out.slice(-300)}`)); });
    });
    const qmp = await Qmp.connect(socket, 10_000);
    try {
      // not stopped first: a VM stopped before it is saved restores paused
      await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
      await qmp.execute('migrate', { uri: `exec:cat > ${catOf(tmp)}` });
      const r = await qmp.until<{ status?: string; 'error-desc'?: string }>('query-migrate',
        (m) => m.status === 'completed' || m.status === 'failed' || m.status === 'cancelled', 120_000, 50);
      if (r.status !== 'completed') throw new Error(`migration ${r.status}: ${r['error-desc'] ?? ''}`);
    } finally {
      qmp.close();
    }
    kill(); // stopped since the migration completed; gone before its RAM file is moved
    await child.catch(() => undefined);
    await rename(ram, ramFileOf(file));
    await rename(tmp, file);
  } catch (e) {
    log.warn({ err: e }, 'build VM snapshot: could not save one');
    throw e;
  } finally {
    kill();
    await child.catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(sockets, { recursive: true, force: true });
  }
}

/** The hand-in line: the host's clock (to the millisecond) and fresh random bytes for the guest's pool. */
export const handInLine = (now = Date.now()): string => `go ${(now / 1000).toFixed(3)} ${randomBytes(32).toString('hex')}\n`;

/**
 * For a restoring VM (-incoming defer): has QEMU load the state, waits until the guest runs (QMP
 * query-status), then writes the hand-in line to its console. Throws when the restore does not get there.
 */
export async function handIn(socket: string, stdin: Writable, stateFile: string, timeoutMs: number): Promise<void> {
  const qmp = await Qmp.connect(socket, timeoutMs);
  try {
    await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
    await qmp.execute('migrate-incoming', { uri: `exec:cat ${catOf(stateFile)}` });
    await qmp.until<{ status: string }>('query-status', (r) => r.status === 'running', timeoutMs, 5);
  } finally {
    qmp.close();
  }
  await new Promise<void>((resolve, reject) => stdin.write(handInLine(), (e) => (e ? reject(e) : resolve())));
}
