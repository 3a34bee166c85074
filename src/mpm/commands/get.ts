// `mpm get NAME | NAME@VERSION | NAME@stable | PKGID | PKGURL`: follows the query URL's 301 to a
// concrete pkgurl, downloads it (a progress bar on a terminal), checks its sha256 against the
// submission, writes the .tgz (or unpacks it with --extract DIR) and records the final pkgurl —
// the redirect target, not the query URL (the mpwa design) — in the local record of fetches.
// Only the server's origin is ever asked; the name and version it answers are checked before
// they make a file name.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MorphuxError } from '../../domain/errors.js';
import { checkPackageName } from '../../domain/names.js';
import { checkVersion } from '../../domain/version.js';
import { isAbsolute, type MpmClient } from '../client.js';
import { submissionArg } from '../submission-arg.js';

export interface GetResult {
  spec: string;
  query_url: string;
  pkgurl: string;
  pkgid: number;
  name: string;
  version: string;
  sha256: string;
  size: number;
  file: string | null;
  extracted: string | null;
}

export interface GetOptions {
  output?: string;
  extract?: string;
  /** the local record of fetches (a JSON array), or null for none */
  recordFile: string | null;
  /** show a progress bar on stderr */
  progress: boolean;
}

/** The query URL for a spec, or the pkgurl (a PKGID's, or a PKGURL on the server's origin). */
export function specUrl(client: MpmClient, spec: string): string {
  if (/^[0-9]+$/.test(spec) || isAbsolute(spec)) return client.url(`/pkg/${submissionArg(client, spec)}`);
  const at = spec.indexOf('@');
  const name = checkPackageName(at < 0 ? spec : spec.slice(0, at));
  const which = at < 0 ? '' : spec.slice(at + 1);
  if (at >= 0 && !/^[0-9A-Za-z._+~-]+$/.test(which)) throw new MorphuxError('bad_request', `bad version in ${spec}`);
  return client.url(`/port/${name}${which ? `/${encodeURIComponent(which)}` : ''}`);
}

/** Follows 301s from a query URL to the pkgurl it resolves to, on the server's origin only. */
export async function resolvePkgurl(client: MpmClient, queryUrl: string): Promise<string> {
  let url = queryUrl;
  for (let hops = 0; !/\/pkg\/[0-9]+$/.test(new URL(url).pathname); hops++) {
    if (hops > 5) throw new MorphuxError('bad_request', `too many redirects from ${queryUrl}`);
    const res = await client.request('GET', url, { redirect: 'manual' });
    res.discard();
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) throw new MorphuxError('bad_request', `${url} did not redirect to a pkgurl`);
    url = client.onOrigin(loc, `a redirect from ${url}`, url);
  }
  return url;
}

/** The submission's name and version, refused (invalid_name, invalid_version) unless each is safe as a file name part. */
function checkedIdentity(s: { name?: unknown; version?: unknown }): { name: string; version: string } {
  return { name: checkPackageName(s.name), version: checkVersion(s.version) };
}

async function download(client: MpmClient, url: string, label: string, progress: boolean): Promise<Buffer> {
  const res = await client.request('GET', url);
  const total = Number(res.headers.get('content-length') ?? 0);
  // loaded only when a bar is shown
  const cliProgress = progress ? (await import('cli-progress')).default : null;
  const bar = cliProgress
    ? new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(total || 1, 0);
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res.body) {
      chunks.push(c);
      n += c.length;
      if (bar) {
        if (!total) bar.setTotal(n);
        bar.update(n);
      }
    }
  } finally {
    bar?.stop();
  }
  return Buffer.concat(chunks);
}

export async function mpmGet(client: MpmClient, spec: string, opts: GetOptions): Promise<GetResult> {
  const queryUrl = specUrl(client, spec);
  const url = await resolvePkgurl(client, queryUrl);
  const pkgid = Number(/\/pkg\/([0-9]+)$/.exec(new URL(url).pathname)![1]);
  const meta = await client.json<{ submission: { name: string; version: string; sha256: string } }>('GET', `/api/v1/pkg/${pkgid}`);
  const { name, version } = checkedIdentity(meta?.submission ?? {});
  const bytes = await download(client, url, `${name} ${version}`, opts.progress);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== meta.submission.sha256) throw new MorphuxError('unsafe_archive', `sha256 mismatch for ${url}: got ${sha256}, the submission says ${meta.submission.sha256}`);
  let file: string | null = null;
  let extracted: string | null = null;
  if (opts.extract) {
    await mkdir(opts.extract, { recursive: true });
    const tar = await import('tar');
    // tar refuses absolute paths, ".." and writing through links that lead outside
    await pipeline(Readable.from([bytes]), tar.x({ cwd: opts.extract, strict: true, preserveOwner: false, filter: (_p, e) => ['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes((e as import('tar').ReadEntry).type) }));
    extracted = path.resolve(opts.extract);
  } else {
    file = path.resolve(opts.output ?? `${name}-${version}-${pkgid}.tgz`);
    const tmp = `${file}.part`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  const result: GetResult = { spec, query_url: queryUrl, pkgurl: url, pkgid, name, version, sha256, size: bytes.length, file, extracted };
  if (opts.recordFile) await record(opts.recordFile, { ...result, fetched_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
  return result;
}

/** Appends one fetch to the record (a JSON array, rewritten atomically). */
async function record(file: string, entry: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let list: unknown[] = [];
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (Array.isArray(v)) list = v;
  } catch { /* first fetch */ }
  list.push(entry);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(list, null, 2) + '\n');
  await rename(tmp, file);
}
