// The bodies of mpm's writing commands and the read commands added with them: submit (pack a
// directory, upload it), flag-stable, submit-report, comment (add, or list), tag, vote. Each takes
// its submission as a pkgid or a pkgurl and prints a short line, or the server's JSON with --json.
import { readFile } from 'node:fs/promises';
import { MorphuxError } from '../../domain/errors.js';
import type { MpmClient } from '../client.js';
import { packDir } from '../pack-dir.js';
import { submissionArg } from '../submission-arg.js';

export type Print = (value: unknown, text: () => string) => void;

export async function mpmSubmit(client: MpmClient, print: Print, dir: string): Promise<void> {
  const tgz = await packDir(dir);
  let filename = 'portpkg.tgz';
  try {
    const m = JSON.parse(await readFile(`${dir}/package.json`, 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof m.name === 'string' && typeof m.version === 'string' && /^[A-Za-z0-9][A-Za-z0-9._+-]{0,100}$/.test(`${m.name}-${m.version}`)) filename = `${m.name}-${m.version}.tgz`;
  } catch { /* the server says what is wrong with it */ }
  const res = await client.request('POST', `/api/v1/submit?filename=${encodeURIComponent(filename)}`, { body: tgz, contentType: 'application/gzip' });
  const r = await res.json<{ pkgid: number; pkgurl: string; submission: { name: string; version: string } }>();
  print(r, () => `pkgid ${r.pkgid}\npkgurl ${r.pkgurl}`);
}

export async function mpmFlagStable(client: MpmClient, print: Print, submission: string, clear: boolean): Promise<void> {
  const r = await client.json<{ pkgid: number; flags: { stable: boolean } }>(clear ? 'DELETE' : 'POST', `/api/v1/pkg/${submissionArg(client, submission)}/flags/stable`);
  print(r, () => `${r.pkgid}: ${r.flags.stable ? 'flagged stable' : 'not stable'}`);
}

export async function mpmSubmitReport(client: MpmClient, print: Print, submission: string, o: { status: string; arch: string; log?: string; message?: string }): Promise<void> {
  const pkgid = submissionArg(client, submission);
  if (o.status !== 'ok' && o.status !== 'failed') throw new MorphuxError('bad_request', '--status must be ok or failed');
  let log: string | null = null;
  if (o.log) {
    try {
      log = o.log === '-' ? await readStdin() : await readFile(o.log, 'utf8');
    } catch (e) {
      throw new MorphuxError('not_found', `cannot read ${o.log}: ${(e as Error).message}`);
    }
  }
  const r = await client.json<{ n: number; status: string }>('POST', `/api/v1/pkg/${pkgid}/reports`, { status: o.status, arch: o.arch, log, message: o.message ?? null });
  print(r, () => `report #${r.n} on ${pkgid}: ${r.status}`);
}

export async function mpmComment(client: MpmClient, print: Print, submission: string, text: string | undefined): Promise<void> {
  const id = submissionArg(client, submission);
  if (text === undefined) {
    const r = await client.json<{ items: Array<{ n: number; author: string; created_at: string; text: string }> }>('GET', `/api/v1/pkg/${id}/comments?limit=500`);
    print(r, () => r.items.map((c) => `#${c.n} ${c.created_at} ${c.author}: ${c.text}`).join('\n') || 'no comments');
    return;
  }
  const r = await client.json<{ n: number }>('POST', `/api/v1/pkg/${id}/comments`, { text });
  print(r, () => `comment #${r.n} on ${id}`);
}

export async function mpmTag(client: MpmClient, print: Print, submission: string, tag: string, remove: boolean): Promise<void> {
  const r = await client.json<{ pkgid: number; tags: string[] }>(remove ? 'DELETE' : 'PUT', `/api/v1/pkg/${submissionArg(client, submission)}/tags/${encodeURIComponent(tag)}`);
  print(r, () => `${r.pkgid} tags: ${r.tags.join(', ') || 'none'}`);
}

export async function mpmVote(client: MpmClient, print: Print, submission: string, remove: boolean): Promise<void> {
  const r = await client.json<{ pkgid: number; votes: number; voted: boolean }>(remove ? 'DELETE' : 'PUT', `/api/v1/pkg/${submissionArg(client, submission)}/vote`);
  print(r, () => `${r.pkgid}: ${r.votes} vote${r.votes === 1 ? '' : 's'}${r.voted ? ' (yours included)' : ''}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
