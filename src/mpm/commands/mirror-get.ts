// `mpm get --mirror URL SPEC`: fetches a mirror's signed index and one artifact, and trusts
// nothing it has not checked (mirror-index.ts, shared with `mpm install --mirror`): the index's key
// is pinned, its signature valid, not expired, not older than the last one seen from that mirror
// (an index signed by a newer key is trusted through the mirror's chain of key rotation
// statements, each signed by a key already trusted, from the pinned ones on); the artifact's size
// and sha256 are the index's; it decrypts (AES-256-GCM, authenticated) and its detached signature
// verifies. Only then is anything written (the file, or the unpacked tree, and the replay state).
// Any failure: nothing. The index's name, version and arch are checked before they make a file
// name; no token is sent.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MorphuxError } from '../../domain/errors.js';
import { decompress, openTrustedMirror, writeNew, type MirrorTrustOptions } from '../mirror-index.js';
import { pickEntry } from '../mirror-plan.js';

// what cli.ts and the tests take from here
export { mirrorSettings } from '../mirror-index.js';
export { pickEntry } from '../mirror-plan.js';

export interface MirrorGetOptions extends MirrorTrustOptions {
  spec: string;
  arch: string;
  output?: string;
  extract?: string;
  progress?: (what: string, bytes: number) => void;
}

export interface MirrorGetResult {
  mirror: string;
  name: string;
  version: string;
  pkgid: number;
  arch: string;
  sequence: number;
  sha256: string;
  file: string | null;
  extracted: string | null;
}

export async function mpmMirrorGet(o: MirrorGetOptions): Promise<MirrorGetResult> {
  const m = await openTrustedMirror(o);
  try {
    const entry = pickEntry(m.index.artifacts, o.spec, o.arch);
    const compressed = await m.artifact(entry, (n) => o.progress?.(entry.path, n));
    const id = { name: entry.name, version: entry.version, pkgid: entry.pkgid, arch: entry.arch };
    let file: string | null = null;
    let extracted: string | null = null;
    if (o.extract) extracted = await extractTo(compressed, entry.compression, o.extract);
    else {
      file = path.resolve(o.output ?? `${entry.name}-${entry.version}-${entry.pkgid}.${entry.arch}.tar.${entry.compression === 'zstd' ? 'zst' : 'xz'}`);
      await writeNew(file, compressed);
    }
    await m.remember();
    return { mirror: m.mirror, ...id, sequence: m.index.sequence, sha256: entry.sha256, file, extracted };
  } finally {
    m.close();
  }
}

/** Decompresses and unpacks into a fresh folder beside `dir`, then renames it to `dir` (which must not exist). */
async function extractTo(compressed: Buffer, codec: 'zstd' | 'xz', dir: string): Promise<string> {
  const target = path.resolve(dir);
  if (existsSync(target)) throw new MorphuxError('already_exists', `${target} exists; --extract makes a new folder`);
  const tarBytes = (await decompress(compressed, codec))!;
  await mkdir(path.dirname(target), { recursive: true });
  const stage = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.part-`));
  try {
    await pipeline(Readable.from([tarBytes]), tar.x({ cwd: stage, strict: true, preserveOwner: false }));
    await rename(stage, target);
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw new MorphuxError('unsafe_archive', `cannot unpack: ${(e as Error).message}`);
  }
  return target;
}
