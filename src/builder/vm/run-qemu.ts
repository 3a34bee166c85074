// Runs one QEMU process to its end: its own process group (detached), the serial console streamed
// to a callback and a file, killed as a whole group on timeout or abort. Never throws for the
// guest's sake; the caller decides what the ending means.
import { createWriteStream } from 'node:fs';
import { execa } from 'execa';

export interface QemuRun {
  exitCode: number | undefined;
  timedOut: boolean;
  aborted: boolean;
  /** could not start at all (binary missing…) */
  spawnError: string | null;
  stderrTail: string;
  consoleTail: string;
  pid: number | undefined;
  seconds: number;
}

export interface RunQemuInput {
  binary: string;
  args: string[];
  timeoutSeconds: number;
  consoleFile: string;
  onConsole?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

const TAIL = 4096;
const tail = (s: string, chunk: Buffer): string => (s + chunk.toString('utf8')).slice(-TAIL);

export async function runQemu(i: RunQemuInput): Promise<QemuRun> {
  const t0 = process.hrtime.bigint();
  const out = createWriteStream(i.consoleFile);
  const child = execa(i.binary, i.args, { detached: true, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
  let timedOut = false;
  let aborted = false;
  let stderrTail = '';
  let consoleTail = '';
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  child.stdout?.on('data', (c: Buffer) => {
    consoleTail = tail(consoleTail, c);
    out.write(c);
    try { i.onConsole?.(c); } catch { /* a listener's failure is not the build's */ }
  });
  child.stderr?.on('data', (c: Buffer) => { stderrTail = tail(stderrTail, c); });
  const timer = setTimeout(() => { timedOut = true; killGroup(); }, i.timeoutSeconds * 1000);
  const onAbort = (): void => { aborted = true; killGroup(); };
  if (i.signal?.aborted) onAbort();
  i.signal?.addEventListener('abort', onAbort, { once: true });
  const r = await child;
  clearTimeout(timer);
  i.signal?.removeEventListener('abort', onAbort);
  killGroup(); // anything QEMU left in its group
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const spawnError = r.exitCode === undefined && !r.isTerminated && r.failed ? (r.originalMessage || r.shortMessage || "spawn failed") : null;
  return {
    exitCode: r.exitCode, timedOut, aborted, spawnError, stderrTail, consoleTail, pid: child.pid,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}
