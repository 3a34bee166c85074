// `mpm get NAME | NAME@VERSION | NAME@stable | PKGURL`: follows the query URL's 301 to a concrete
// pkgurl, downloads it, checks its sha256 against the submission, writes the .tgz (or unpacks it
// with --extract DIR) and records the final pkgurl in ~/.local/share/mpm/fetched.json.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MorphuxError } from '../../domain/errors.js';
import { checkPackageName } from '../../domain/names.js';
import type { MpmClient } from '../mpm-client.js';

export interface GetResult {
  pkgurl: string;
  pkgid: number;
  name: string;
  version: string;
  sha256: string;
  file: string | null;
  extracted: string | null;
}

/** The query URL for a spec, or the pkgurl itself. */
export function specUrl(client: MpmClient, spec: string): string {
  if (/^https?:\/\//.test(spec)) return spec;
  if (/^[0-9]+$/.test(spec)) return client.url(`/pkg/${spec}`);
  const at = spec.indexOf('@');
  const name = checkPackageName(at < 0 ? spec : spec.slice(0, at));
  const which = at < 0 ? '' : spec.slice(at + 1);
  if (at >= 0 && !/^[0-9A-Za-z._+~-]+$/.test(which)) throw new MorphuxError('bad_request', `bad version in ${spec}`);
  return client.url(`/port/${name}${which ? `/${encodeURIComponent(which)}` : ''}`);
}

export async function mpmGet(client: MpmClient, spec: string, opts: { output?: string; extract?: string }): Promise<GetResult> {
  let url = specUrl(client, spec);
  for (let hops = 0; !/\/pkg\/[0-9]+$/.test(new URL(url).pathname); hops++) {
    if (hops > 5) throw new MorphuxError('bad_request', `too many redirects from ${spec}`);
    const res = await client.request('GET', url, { redirect: 'manual' });
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) throw new MorphuxError('bad_request', `${url} did not redirect to a pkgurl`);
    url = new URL(loc, url).toString();
  }
  const pkgid = Number(/\/pkg\/([0-9]+)$/.exec(new URL(url).pathname)![1]);
  const meta = await client.json<{ submission: { name: string; version: string; sha256: string } }>('GET', `/api/v1/pkg/${pkgid}`);
  const res = await client.request('GET', url);
  const bytes = Buffer.from(await res.arrayBuffer());
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== meta.submission.sha256) throw new MorphuxError('unsafe_archive', `sha256 mismatch for ${url}: got ${sha256}, the submission says ${meta.submission.sha256}`);
  const { name, version } = meta.submission;
  let file: string | null = null;
  let extracted: string | null = null;
  if (opts.extract) {
    await mkdir(opts.extract, { recursive: true });
    await pipeline(Readable.from([bytes]), tar.x({ cwd: opts.extract, strict: true, preserveOwner: false }));
    extracted = path.resolve(opts.extract);
  } else {
    file = path.resolve(opts.output ?? `${name}-${version}-${pkgid}.tgz`);
    const tmp = `${file}.part`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }
  await record({ pkgurl: url, pkgid, name, version, sha256, fetched_at: new Date().toISOString() });
  return { pkgurl: url, pkgid, name, version, sha256, file, extracted };
}

async function record(entry: Record<string, unknown>): Promise<void> {
  const dir = path.join(process.env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'mpm');
  const file = path.join(dir, 'fetched.json');
  await mkdir(dir, { recursive: true });
  let list: unknown[] = [];
  try {
    list = JSON.parse(await readFile(file, 'utf8')) as unknown[];
  } catch { /* first fetch */ }
  list.push(entry);
  await writeFile(`${file}.tmp`, JSON.stringify(list, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
}
