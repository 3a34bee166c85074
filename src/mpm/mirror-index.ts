// A mirror's signed index, trusted, and its artifacts, checked: what `mpm get --mirror`
// (commands/mirror-get.ts) and `mpm install|upgrade --mirror` (install/mirror-install.ts) share.
// Nothing fetched says which key to trust: the index's key is pinned, or reached through the
// mirror's chain of key rotation statements, each signed by a key already trusted, from the pinned
// ones on; its signature is valid, it is not expired, not older than the last one seen from that
// mirror. An artifact's size and sha256 are the index's; it decrypts (AES-256-GCM, authenticated)
// and its detached signature verifies. A sealed manifest likewise: its size and sha256 the index's,
// then it decrypts as that artifact's manifest (its own associated data: never an artifact, never
// another artifact's manifest). A build's provenance: the file the index names, its size and sha256
// the index's, its DSSE signature valid under the same trusted keys (pinned, or reached through the
// rotation statements). The replay state is written only when the caller says the whole command
// succeeded (remember()). No token is sent.
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { envelopeKeyIds, invalidProvenance } from '../domain/dsse.js';
import { isMorphuxError, MorphuxError } from '../domain/errors.js';
import { verifyRotation } from '../domain/key-rotation.js';
import { MAX_PROVENANCE_BYTES, verifyProvenance, type ProvenanceStatement } from '../domain/provenance-statement.js';
import { openArtifact, openManifest, SEALED_OVERHEAD, verifyArtifactSig } from '../domain/sealed-artifact.js';
import { verifySignedIndex, type IndexEntry, type IndexPayload } from '../domain/signed-index.js';
import { trustedCas } from '../domain/tls-trust.js';
import { checkEntryNames } from './mirror-plan.js';
import { MirrorSource } from './mirror-source.js';
import { mpmSettings, trustedKeyMap, type MpmSettings, type TrustFlags } from './mpm-settings.js';

export interface MirrorTrustOptions {
  mirror: string;
  /** pinned signing keys, `ed25519:<base64>` */
  publicKeys: string[];
  /** the content keys file (`morphux keys export-content-keys`) */
  contentKeysFile: string | null;
  /** a PEM file of CAs trusted (besides the system's) for ftps:// and https:// mirrors */
  caFile?: string | null;
  /** where the highest index sequence seen per mirror is kept */
  stateFile: string;
  now?: Date;
}

export type MirrorFlags = TrustFlags;

/** mpm's settings (mpm-settings.ts, the one reader) with the mirror they name: bad_request when none does. */
export async function mirrorSettings(flags: MirrorFlags, env: NodeJS.ProcessEnv = process.env): Promise<MpmSettings & { mirror: string }> {
  const settings = await mpmSettings(flags, env);
  const { mirror } = settings;
  if (!mirror) throw new MorphuxError('bad_request', 'no mirror: pass --mirror URL, set MPM_MIRROR, or "mirror" in the mpm config');
  return { ...settings, mirror };
}

type ReplayState = Record<string, { sequence: number; origin: string; at: string }>;

export interface TrustedMirror {
  /** the mirror's URL as the replay state keys it (no trailing slash) */
  mirror: string;
  source: MirrorSource;
  /** the verified index */
  index: IndexPayload;
  /**
   * The compressed bytes of `entry`'s artifact: its size and sha256 the index's, decrypted with a
   * content key held, its detached signature verified with a trusted key. Throws otherwise.
   */
  artifact(entry: IndexEntry, progress?: (bytes: number) => void): Promise<Buffer>;
  /**
   * The manifest in clear of `entry`'s artifact: the sealed file at manifest_path, its size and
   * sha256 the index's (manifest_sealed_size, manifest_sealed_sha256), decrypted as that
   * artifact's manifest with a content key held. The caller checks its sha256 in clear
   * (manifest_sha256, the plan's manifest.sha256) and its entries (install/manifest.ts manifestOf).
   * `maxBytes`: the most a manifest in clear may have.
   */
  manifest(entry: SealedManifestOf, maxBytes: number): Promise<Buffer>;
  /**
   * The signed provenance of `entry`'s build, verified: the file at provenance_path, its size and
   * sha256 the index's (else provenance_invalid, reason digest), its DSSE signature by a trusted
   * key (the pinned ones and those their rotation statements on the mirror lead to: the index's
   * rules; else provenance_invalid). null when the entry names none (provenance_missing is the
   * caller's to say). The caller compares it (domain/provenance-check.ts).
   */
  provenance(entry: IndexEntry): Promise<{ statement: ProvenanceStatement; keyId: string } | null>;
  /** Records the index's sequence as the highest seen from this mirror (only once all succeeded). */
  remember(): Promise<void>;
  close(): void;
}

/** An index entry that names a sealed manifest. */
export type SealedManifestOf = IndexEntry & Required<Pick<IndexEntry, 'manifest_path' | 'manifest_sealed_size' | 'manifest_sealed_sha256'>>;

/** Fetches the mirror's index and checks it (key, rotations, signature, expiry, replay). */
export async function openTrustedMirror(o: MirrorTrustOptions): Promise<TrustedMirror> {
  const trusted = trustedKeyMap(o.publicKeys);
  const contentKeys = await readContentKeys(o.contentKeysFile);
  const mirrorKey = o.mirror.replace(/\/+$/, '');
  const state = JSON.parse(await readFile(o.stateFile, 'utf8').catch(() => '{}')) as ReplayState;
  let ca: string | undefined;
  if (o.caFile) {
    try {
      ca = await readFile(o.caFile, 'utf8');
    } catch (e) {
      throw new MorphuxError('bad_request', `cannot read the CA file ${o.caFile}: ${(e as Error).message}`);
    }
  }
  const src = new MirrorSource(o.mirror, trustedCas(ca));
  try {
    const indexText = await src.get('index.json', 64 * 1024 * 1024);
    await followRotations(src, indexKeyId(indexText), trusted);
    const index = verifySignedIndex(indexText, { trusted, now: o.now ?? new Date(), lastSequence: state[mirrorKey]?.sequence });
    return {
      mirror: mirrorKey,
      source: src,
      index,
      artifact: async (entry, progress) => {
        checkEntryNames(entry);
        const sealed = await fetchSigned(src, entry.path, { size: entry.size, sha256: entry.sha256 }, 4 * 1024 ** 3, progress);
        const id = { name: entry.name, version: entry.version, pkgid: entry.pkgid, arch: entry.arch };
        const compressed = openArtifact(sealed, id, contentKeys);
        verifyArtifactSig(await src.get(entry.sig_path, 64 * 1024), compressed, id, trusted);
        return compressed;
      },
      manifest: async (entry, maxBytes) => {
        checkEntryNames(entry);
        const sealed = await fetchSigned(src, entry.manifest_path, { size: entry.manifest_sealed_size, sha256: entry.manifest_sealed_sha256 }, maxBytes + SEALED_OVERHEAD);
        return openManifest(sealed, { name: entry.name, version: entry.version, pkgid: entry.pkgid, arch: entry.arch }, contentKeys);
      },
      provenance: async (entry) => {
        if (!entry.provenance_path || entry.provenance_size === undefined || !entry.provenance_sha256) return null;
        checkEntryNames(entry);
        const rel = entry.provenance_path;
        let bytes: Buffer;
        try {
          bytes = await fetchSigned(src, rel, { size: entry.provenance_size, sha256: entry.provenance_sha256 }, MAX_PROVENANCE_BYTES);
        } catch (e) {
          if (isMorphuxError(e, 'digest_mismatch') || isMorphuxError(e, 'too_large')) throw invalidProvenance(`${e.message}: not the provenance the signed index names`, 'digest', { path: rel });
          if (isMorphuxError(e, 'not_found')) throw new MorphuxError('provenance_missing', `the signed index names ${rel}, which is not on the mirror`, { path: rel });
          throw e;
        }
        // signed by a key the pins do not name: reached as the index's key is, through the rotations
        for (const id of envelopeKeyIds(bytes)) await followRotations(src, id, trusted);
        return verifyProvenance(bytes, trusted);
      },
      remember: async () => {
        // read again: another mpm may have moved it meanwhile; never lowered
        const now = JSON.parse(await readFile(o.stateFile, 'utf8').catch(() => '{}')) as ReplayState;
        now[mirrorKey] = { sequence: Math.max(index.sequence, now[mirrorKey]?.sequence ?? 0), origin: index.origin, at: new Date().toISOString() };
        await mkdir(path.dirname(o.stateFile), { recursive: true });
        await writeNew(o.stateFile, JSON.stringify(now, null, 2) + '\n');
      },
      close: () => src.close(),
    };
  } catch (e) {
    src.close();
    throw e;
  }
}

/**
 * The bytes of `rel` on the mirror, their size and sha256 what the signed index says
 * (digest_mismatch otherwise; no more bytes are read than it says). too_large when it says more than `maxBytes`.
 */
async function fetchSigned(src: MirrorSource, rel: string, want: { size: number; sha256: string }, maxBytes: number, progress?: (bytes: number) => void): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await src.get(rel, Math.min(maxBytes, want.size), progress);
  } catch (e) {
    if (isMorphuxError(e, 'too_large') && want.size <= maxBytes) throw new MorphuxError('digest_mismatch', `${rel} is larger than the ${want.size} bytes the signed index says`, { path: rel });
    throw e;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== want.size || sha256 !== want.sha256) {
    throw new MorphuxError('digest_mismatch', `${rel}: ${bytes.length} bytes, sha256 ${sha256}; the signed index says ${want.size}, ${want.sha256}`, { path: rel });
  }
  return bytes;
}

async function readContentKeys(file: string | null): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  if (!file) return keys;
  let doc: { format?: string; keys?: Array<{ id: string; key: string }> };
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new MorphuxError('bad_request', `cannot read the content keys file ${file}: ${(e as Error).message}`);
  }
  if (doc.format !== 'morphux-content-keys-v1' || !Array.isArray(doc.keys)) throw new MorphuxError('bad_request', `${file} is not a Morphux content keys file`);
  for (const k of doc.keys) keys.set(k.id, Buffer.from(k.key, 'base64'));
  return keys;
}

/** The key id an index envelope names (not yet checked: verifySignedIndex does that), or null. */
function indexKeyId(text: Buffer): string | null {
  try {
    const id = (JSON.parse(text.toString('utf8')) as { key_id?: unknown }).key_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/**
 * When the index is signed by a key not trusted yet, walks the mirror's rotation statements
 * keys/rotation-1.json, -2, … (until one is missing, or the key is reached), each verified with a
 * key trusted so far, and adds each new key to `trusted`. A statement whose new key is trusted
 * already is passed over; one that does not verify is refused (unknown_key, signature_invalid).
 */
async function followRotations(src: MirrorSource, target: string | null, trusted: Map<string, KeyObject>): Promise<void> {
  if (!target || trusted.has(target)) return;
  for (let n = 1; n <= 10_000 && !trusted.has(target); n++) {
    let json: Buffer;
    try {
      json = await src.get(`keys/rotation-${n}.json`, 64 * 1024);
    } catch (e) {
      if ((e as MorphuxError).code === 'not_found') return;
      throw e;
    }
    const sig = await src.get(`keys/rotation-${n}.json.sig`, 64 * 1024);
    const peek = (() => { try { return JSON.parse(json.toString('utf8')) as { new_key_id?: string }; } catch { return {}; } })();
    if (peek.new_key_id && trusted.has(peek.new_key_id)) continue;
    const { statement, newKey } = verifyRotation(json, sig, n, trusted);
    trusted.set(statement.new_key_id, newKey);
  }
}

/** Writes beside the target, then renames: a reader never sees a partial file. */
export async function writeNew(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.part-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Decompresses an artifact's bytes (zstd or xz, the Debian CLIs): the tar's bytes, or with `toFile`
 * written there (a new file) and null returned. unsafe_archive when the codec refuses them.
 */
export async function decompress(compressed: Buffer, codec: 'zstd' | 'xz', toFile?: string): Promise<Buffer | null> {
  // loaded on use (+16 MiB): an ESM bundle of mpm hoists a package's static import to its start
  const { execa } = await import('execa');
  try {
    if (toFile) {
      await execa(codec, ['-d', '-c', '-q'], { input: compressed, stdout: { file: toFile, append: false } });
      return null;
    }
    return Buffer.from((await execa(codec, ['-d', '-c', '-q'], { input: compressed, encoding: 'buffer', stripFinalNewline: false, maxBuffer: 8 * 1024 ** 3 })).stdout);
  } catch (e) {
    throw new MorphuxError('unsafe_archive', `cannot decompress with ${codec}: ${(e as Error).message.split('\n')[0]}`);
  }
}
