// Runs one QEMU process to its end: its own process group (detached), the serial console streamed
// to a callback and a file (cut at a size cap), killed as a whole group at the wall-clock limit,
// after a silence longer than the idle limit, or on abort. Never throws for the guest's sake.
// QEMU also dies with this process (setpriv --pdeathsig): a server SIGKILLed mid-build must not
// leave an orphan VM busy for its whole time limit (found by reliability/crash-harness.ts).
import { createWriteStream } from 'node:fs';
import { execa } from 'execa';

export interface QemuRun {
  exitCode: number | undefined;
  timedOut: boolean;
  /** which limit ended it: the wall clock, or no console output for idleSeconds */
  timeoutKind: 'wall' | 'idle' | null;
  aborted: boolean;
  /** could not start at all (binary missing…) */
  spawnError: string | null;
  stderrTail: string;
  consoleTail: string;
  pid: number | undefined;
  seconds: number;
  /** with handIn: seconds from the start to the hand-in done, or why it failed (the VM was killed) */
  handInSeconds?: number;
  handInError?: string;
}

export interface RunQemuInput {
  binary: string;
  args: string[];
  timeoutSeconds: number;
  /** kill when the console stays silent this long; 0 or absent: no idle limit */
  idleSeconds?: number;
  consoleFile: string;
  /** bytes of console output written to consoleFile at most (the callback still sees everything) */
  consoleMaxBytes?: number;
  onConsole?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** a restored VM's hand-in (vm-snapshot.ts): QEMU's stdin becomes a pipe given to it; when it
   *  throws, the VM is killed and the run reports handInError */
  handIn?: (stdin: import('node:stream').Writable) => Promise<void>;
}

const TAIL = 4096;
const tail = (s: string, chunk: Buffer): string => (s + chunk.toString('utf8')).slice(-TAIL);

export async function runQemu(i: RunQemuInput): Promise<QemuRun> {
  const t0 = process.hrtime.bigint();
  const out = createWriteStream(i.consoleFile);
  const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', i.binary, ...i.args], { detached: true, stdin: i.handIn ? 'pipe' : 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
  let timedOut = false;
  let timeoutKind: QemuRun['timeoutKind'] = null;
  let written = 0;
  const cap = i.consoleMaxBytes ?? Infinity;
  let aborted = false;
  let stderrTail = '';
  let consoleTail = '';
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  child.stdout?.on('data', (c: Buffer) => {
    consoleTail = tail(consoleTail, c);
    armIdle();
    if (written < cap) {
      const part = written + c.length > cap ? c.subarray(0, cap - written) : c;
      written += part.length;
      out.write(part);
      if (written >= cap) out.write(`\n[morphux: console log cut at ${cap} bytes]\n`);
    }
    try { i.onConsole?.(c); } catch { /* a listener's failure is not the build's */ }
  });
  child.stderr?.on('data', (c: Buffer) => { stderrTail = tail(stderrTail, c); });
  const expire = (kind: 'wall' | 'idle') => (): void => {
    if (!timedOut) { timedOut = true; timeoutKind = kind; }
    killGroup();
  };
  const timer = setTimeout(expire('wall'), i.timeoutSeconds * 1000);
  let idle: NodeJS.Timeout | undefined;
  function armIdle(): void {
    if (!i.idleSeconds) return;
    if (idle) idle.refresh();
    else idle = setTimeout(expire('idle'), i.idleSeconds * 1000);
  }
  armIdle();
  let handInSeconds: number | undefined;
  let handInError: string | undefined;
  if (i.handIn && child.stdin) {
    child.stdin.on('error', () => undefined); // QEMU gone: the exit tells
    i.handIn(child.stdin).then(
      () => { handInSeconds = Number(process.hrtime.bigint() - t0) / 1e9; },
      (e: Error) => { handInError = e.message; killGroup(); },
    );
  }
  const onAbort = (): void => { aborted = true; killGroup(); };
  if (i.signal?.aborted) onAbort();
  i.signal?.addEventListener('abort', onAbort, { once: true });
  const r = await child;
  clearTimeout(timer);
  clearTimeout(idle);
  i.signal?.removeEventListener('abort', onAbort);
  killGroup(); // anything QEMU left in its group
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const execFailed = (r.exitCode === 126 || r.exitCode === 127) && /^setpriv: failed to execute/m.test(stderrTail);
  const spawnError = execFailed ? stderrTail.trim().split('\n')[0]!
    : r.exitCode === undefined && !r.isTerminated && r.failed ? (r.originalMessage || r.shortMessage || "spawn failed") : null;
  return {
    exitCode: r.exitCode, timedOut, timeoutKind, aborted, spawnError, stderrTail, consoleTail, pid: child.pid,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    ...(i.handIn ? { handInSeconds, handInError: handInError ?? (handInSeconds === undefined ? 'QEMU ended before the hand-in' : undefined) } : {}),
  };
}
