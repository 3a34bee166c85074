// What a server process's resident memory is made of, read from outside: /proc/<pid>/smaps (anon
// vs file-backed; glibc's brk heap and its 64 MiB-aligned thread arenas) and, when the server was
// started with --report-on-signal, V8's heap and external memory from a diagnostic report (SIGUSR2).
// For bench/memory-under-load.ts; a report does not collect garbage, so it does not change what it reads.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export interface MemoryBreakdown {
  rssKb: number;
  anonKb: number;
  fileKb: number;
  /** glibc's main arena ([heap], brk) */
  brkKb: number;
  /** anon mappings starting on a 64 MiB boundary: glibc's per-thread arenas (and anything else so aligned) */
  arenaKb: number;
  arenas: number;
  /** from the report, null without one */
  v8?: { committedKb: number; usedKb: number; externalKb: number };
}

const ARENA_ALIGN = 64n * 1024n * 1024n;

export async function memoryBreakdown(pid: number, reportDir?: string): Promise<MemoryBreakdown> {
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  const out: MemoryBreakdown = { rssKb: 0, anonKb: 0, fileKb: 0, brkKb: 0, arenaKb: 0, arenas: 0 };
  let start = 0n;
  let name = '';
  for (const line of smaps.split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      start = BigInt(`0x${m[1]}`);
      name = m[2] ?? '';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (!r) continue;
    const kb = Number(r[1]);
    out.rssKb += kb;
    if (name.startsWith('/')) out.fileKb += kb;
    else out.anonKb += kb;
    if (name === '[heap]') out.brkKb += kb;
    else if (name === '' && start % ARENA_ALIGN === 0n && kb > 0) {
      out.arenaKb += kb;
      out.arenas++;
    }
  }
  if (reportDir) out.v8 = await v8Report(pid, reportDir);
  return out;
}

async function v8Report(pid: number, dir: string): Promise<MemoryBreakdown['v8']> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    for (const f of await readdir(dir)) {
      if (before.has(f) || !f.endsWith('.json')) continue;
      try {
        const heap = JSON.parse(await readFile(path.join(dir, f), 'utf8')).javascriptHeap;
        await rm(path.join(dir, f), { force: true });
        return { committedKb: heap.totalCommittedMemory / 1024, usedKb: heap.usedMemory / 1024, externalKb: heap.externalMemory / 1024 };
      } catch { /* still being written */ }
    }
  }
  return undefined;
}

export function describeBreakdown(b: MemoryBreakdown): string {
  const mib = (kb: number) => (kb / 1024).toFixed(0);
  const v8 = b.v8 ? `; V8 heap ${mib(b.v8.usedKb)} used / ${mib(b.v8.committedKb)} committed, external ${mib(b.v8.externalKb)}` : '';
  return `RSS ${mib(b.rssKb)} MiB: anon ${mib(b.anonKb)} (brk heap ${mib(b.brkKb)}, ${b.arenas} thread arenas ${mib(b.arenaKb)}), file ${mib(b.fileKb)}${v8}`;
}
