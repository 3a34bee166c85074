// `mpm get --mirror URL SPEC`: fetches a mirror's signed index and one artifact, and trusts
// nothing it has not checked (mirror-index.ts, shared with `mpm install --mirror`): the index's key
// is pinned, its signature valid, not expired, not older than the last one seen from that mirror
// (an index signed by a newer key is trusted through the mirror's chain of key rotation
// statements, each signed by a key already trusted, from the pinned ones on); the artifact's size
// and sha256 are the index's; it decrypts (AES-256-GCM, authenticated) and its detached signature
// verifies. Only then is anything written (the file, or the unpacked tree, and the replay state).
// Any failure: nothing. The index's name, version and arch are checked before they make a file
// name; no token is sent. With --require-provenance (or MPM_REQUIRE_PROVENANCE, "require_provenance"
// in the config) the build's provenance must be on the mirror beside it, signed by a trusted key
// (mirror-index.ts), and name what is written: its manifest subject the sha256 of the manifest the
// index names (fetched, decrypted, checked), its binaries subject the build's archive as the index
// names it (binaries_sha256), and every file of the downloaded archive the manifest's (size,
// sha256, type, link target: install/extract.ts scanArchive, as an install checks it).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MorphuxError } from '../../domain/errors.js';
import type { IndexEntry } from '../../domain/signed-index.js';
import { scanArchive } from '../install/extract.js';
import { manifestOf, MAX_MANIFEST_BYTES } from '../install/manifest.js';
import { decompress, openTrustedMirror, writeNew, type MirrorTrustOptions, type TrustedMirror } from '../mirror-index.js';
import { pickEntry, resolvable } from '../mirror-plan.js';
import { checkPackageProvenance } from './provenance.js';

// what cli.ts and the tests take from here
export { mirrorSettings } from '../mirror-index.js';
export { pickEntry } from '../mirror-plan.js';

export interface MirrorGetOptions extends MirrorTrustOptions {
  spec: string;
  arch: string;
  output?: string;
  extract?: string;
  progress?: (what: string, bytes: number) => void;
  /** check the build's provenance before writing anything (mpm-settings.ts requireProvenance) */
  requireProvenance?: boolean;
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
  /** with requireProvenance: the key that signed the provenance checked */
  provenance_key_id?: string;
}

export async function mpmMirrorGet(o: MirrorGetOptions): Promise<MirrorGetResult> {
  const m = await openTrustedMirror(o);
  try {
    const entry = pickEntry(m.index.artifacts, o.spec, o.arch);
    const proven = o.requireProvenance ? await checkedProvenance(m, entry) : null;
    const compressed = await m.artifact(entry, (n) => o.progress?.(entry.path, n));
    const id = { name: entry.name, version: entry.version, pkgid: entry.pkgid, arch: entry.arch };
    if (proven) await proven.archive(compressed);
    let file: string | null = null;
    let extracted: string | null = null;
    if (o.extract) extracted = await extractTo(compressed, entry.compression, o.extract);
    else {
      file = path.resolve(o.output ?? `${entry.name}-${entry.version}-${entry.pkgid}.${entry.arch}.tar.${entry.compression === 'zstd' ? 'zst' : 'xz'}`);
      await writeNew(file, compressed);
    }
    await m.remember();
    return { mirror: m.mirror, ...id, sequence: m.index.sequence, sha256: entry.sha256, file, extracted, ...(proven ? { provenance_key_id: proven.keyId } : {}) };
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

/**
 * The build's provenance checked before the archive is fetched: there (provenance_missing), signed
 * by a trusted key (provenance_invalid), its subjects the manifest the index names (fetched,
 * decrypted, its sha256 checked) and the build's archive as the index names it, for this pkgid
 * and arch (provenance_mismatch). `archive` then checks every file of the downloaded artifact
 * against that manifest (unsafe_archive, digest_mismatch), in a temp folder beside nothing.
 */
async function checkedProvenance(m: TrustedMirror, entry: IndexEntry): Promise<{ keyId: string; archive: (compressed: Buffer) => Promise<void> }> {
  let keyId = '';
  await checkPackageProvenance(entry, async () => {
    // what the subjects are compared with: without it (an index from before provenance) there is none to check
    if (!entry.binaries_sha256 || !entry.manifest_sha256) return null;
    const v = await m.provenance(entry);
    keyId = v?.keyId ?? '';
    return v?.statement ?? null;
  }, { binaries_sha256: entry.binaries_sha256 ?? '', manifest_sha256: entry.manifest_sha256 ?? '', resolved: {} });
  // the manifest the provenance names: the one the index names, opened and checked as an install does
  const e = resolvable(entry);
  const plan = { name: e.name, version: e.version, pkgid: e.pkgid, arch: e.arch, manifest: { url: '', sha256: e.manifest_sha256 } };
  const files = manifestOf(await m.manifest(e, MAX_MANIFEST_BYTES), plan);
  return {
    keyId,
    archive: async (compressed) => {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'mpm-get-'));
      try {
        const tarFile = path.join(tmp, 'files.tar');
        await decompress(compressed, e.compression, tarFile);
        scanArchive(tarFile, e.name, files, null);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
