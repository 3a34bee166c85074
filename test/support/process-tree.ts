// Processes below a process, read from /proc (each /proc/<n>/stat names its parent): for killing
// servers whose children leave the process group (vsftpd sessions, git-http-backend), for
// measuring them (bench/memory-under-load.ts) and for finding what a killed VM left behind.
import { readdir, readFile } from 'node:fs/promises';

/** Every process below `pid`, children before grandchildren. */
export async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const d of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* exited */ }
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const next: number[] = [];
    for (const p of queue) for (const c of children.get(p) ?? []) { out.push(c); next.push(c); }
    queue = next;
  }
  return out;
}

/** Processes whose command line mentions `text` (a VM's work dir, a test's marker). */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    try {
      if ((await readFile(`/proc/${p}/cmdline`, 'utf8')).includes(text)) pids.push(Number(p));
    } catch { /* exited */ }
  }
  return pids;
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM, …), null once the process is gone. */
export async function procStatusKb(pid: number, field: string): Promise<number | null> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
