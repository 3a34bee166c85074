// The archives of a plan, downloaded a few at a time (a cli-progress multibar on a terminal),
// each checked against the plan's size and sha256 while it streams to its file.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MorphuxError } from '../../domain/errors.js';
import { cutShort, type MpmClient } from '../client.js';
import { churned } from '../memory.js';
import { pool } from '../pool.js';
import { alive } from '../lock.js';

export interface DownloadItem {
  label: string;
  url: string;
  size: number;
  sha256: string;
  /** where it goes */
  file: string;
}

/** A private folder for this run's downloads (outside ROOT: a refused download leaves ROOT as it
 *  was); the folders of runs whose process is gone (killed) are swept first. */
export async function downloadDir(): Promise<string> {
  const tmp = os.tmpdir();
  for (const n of await readdir(tmp).catch(() => [] as string[])) {
    const m = /^mpm-download-([0-9]+)-/.exec(n);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    await rm(path.join(tmp, n), { recursive: true, force: true }).catch(() => {});
  }
  return mkdtemp(path.join(tmp, `mpm-download-${process.pid}-`));
}

export async function downloadAll(client: MpmClient, items: DownloadItem[], o: { progress: boolean; concurrency?: number }): Promise<void> {
  // cli-progress is loaded only when a bar is shown (7 MiB of a process that shows none)
  const cliProgress = o.progress && items.length ? (await import('cli-progress')).default : null;
  const bars = cliProgress
    ? new cliProgress.MultiBar({ format: '{label} [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    : null;
  const width = Math.max(...items.map((i) => i.label.length));
  try {
    await pool(items, o.concurrency ?? 4, async (it) => {
      const bar = bars?.create(it.size || 1, 0, { label: it.label.padEnd(width) });
      await downloadOne(client, it, (n) => bar?.update(n));
    });
  } finally {
    bars?.stop();
  }
}

async function downloadOne(client: MpmClient, it: DownloadItem, progress: (n: number) => void): Promise<void> {
  const res = await client.request('GET', it.url);
  const hash = createHash('sha256');
  let n = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > it.size) return cb(new MorphuxError('digest_mismatch', `${it.label}: the archive is over the ${it.size} bytes the plan says (${it.url})`));
      hash.update(chunk);
      progress(n);
      churned(chunk.length);
      cb(null, chunk);
    },
  });
  await pipeline(res.body, check, createWriteStream(it.file, { flags: 'wx', mode: 0o600 })).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' ? cutShort(e, client.server) : e;
  });
  const sha256 = hash.digest('hex');
  if (n !== it.size || sha256 !== it.sha256) {
    throw new MorphuxError('digest_mismatch', `${it.label}: the archive has ${n} bytes, sha256 ${sha256}; the plan says ${it.size} bytes, ${it.sha256} (${it.url})`, { url: it.url });
  }
}
