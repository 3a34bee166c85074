// How a transaction is shown before it runs (what, versions, download and installed size) and
// the question asked before it does, unless --yes.
import { createInterface } from 'node:readline/promises';
import { MorphuxError } from '../../domain/errors.js';

export interface ChangeLine {
  name: string;
  kind: 'new' | 'upgrade' | 'downgrade' | 'reinstall' | 'remove' | 'mark explicit';
  from: string | null;
  to: string | null;
  pkgid: number | null;
  explicit: boolean;
  download: number;
  /** installed size after (0 for a removal) and before (0 for a new package) */
  size: number;
  sizeBefore: number;
}

export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n < 0 ? '-' : ''}${u ? v.toFixed(1) : v} ${units[u]}`;
}

export function describe(lines: ChangeLine[]): string {
  const w = Math.max(...lines.map((l) => l.name.length));
  const version = (l: ChangeLine) => (l.from && l.to && l.from !== l.to ? `${l.from} -> ${l.to}` : l.to ?? l.from ?? '');
  const vw = Math.max(...lines.map((l) => version(l).length));
  const kind = (l: ChangeLine) => `${l.kind}${l.kind === 'new' && !l.explicit ? ' (dependency)' : ''}`;
  const kw = Math.max(...lines.map((l) => kind(l).length));
  const rows = lines.map((l) => `  ${l.name.padEnd(w)}  ${version(l).padEnd(vw)}  ${kind(l).padEnd(kw)}${l.pkgid ? `  pkgid ${l.pkgid}` : ''}${l.download ? `  ${humanSize(l.download)}` : ''}`.trimEnd());
  const download = lines.reduce((a, l) => a + l.download, 0);
  const after = lines.reduce((a, l) => a + l.size, 0);
  const delta = after - lines.reduce((a, l) => a + l.sizeBefore, 0);
  return [`Packages (${lines.length}):`, ...rows, `Download size: ${humanSize(download)}   Installed size: ${humanSize(after)} (change ${delta >= 0 ? '+' : ''}${humanSize(delta)})`].join('\n');
}

/** Asks on the terminal unless `yes`; without a terminal, --yes is needed. */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new MorphuxError('bad_request', 'this changes the system and asks first, but stdin is not a terminal: run it with --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (a !== 'y' && a !== 'yes') throw new MorphuxError('bad_request', 'not confirmed: nothing was changed');
  } finally {
    rl.close();
  }
}
