// `mpm get --mirror URL SPEC`: fetches a mirror's signed index and one artifact, and trusts
// nothing it has not checked: the index's key is pinned, its signature valid, not expired, not
// older than the last one seen from that mirror (an index signed by a newer key is trusted through
// the mirror's chain of key rotation statements, each signed by a key already trusted, from the
// pinned ones on); the artifact's size and sha256 are the index's;
// it decrypts (AES-256-GCM, authenticated) and its detached signature verifies. Only then is
// anything written (the file, or the unpacked tree, and the replay state). Any failure: nothing.
// The index's name, version and arch are checked before they make a file name; no token is sent.
import { createHash, type KeyObject } from 'node:crypto';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { MorphuxError } from '../../domain/errors.js';
import { verifyRotation } from '../../domain/key-rotation.js';
import { checkPackageName } from '../../domain/names.js';
import { openArtifact, verifyArtifactSig } from '../../domain/sealed-artifact.js';
import { parsePublicKey, signingKeyId, verifySignedIndex, type IndexEntry } from '../../domain/signed-index.js';
import { trustedCas } from '../../domain/tls-trust.js';
import { checkVersion, compareVersions } from '../../domain/version.js';
import { MirrorSource } from '../mirror-source.js';

export interface MirrorGetOptions {
  mirror: string;
  spec: string;
  arch: string;
  /** pinned signing keys, `ed25519:<base64>` */
  publicKeys: string[];
  /** the content keys file (`morphux keys export-content-keys`) */
  contentKeysFile: string | null;
  /** a PEM file of CAs trusted (besides the system's) for ftps:// and https:// mirrors */
  caFile?: string | null;
  output?: string;
  extract?: string;
  /** where the highest index sequence seen per mirror is kept */
  stateFile: string;
  now?: Date;
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

/** mpm's mirror settings: flags, then the environment, then ~/.config/mpm/config.json. */
export async function mirrorSettings(flags: { mirror?: string | boolean; publicKey?: string[]; contentKeys?: string; caFile?: string }, env: NodeJS.ProcessEnv = process.env) {
  const file = env.MPM_CONFIG ?? path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mpm', 'config.json');
  let cfg: { mirror?: string; public_keys?: string[]; content_keys_file?: string; ca_file?: string } = {};
  if (existsSync(file)) {
    try {
      cfg = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      throw new MorphuxError('bad_request', `${file} is not valid JSON`);
    }
  }
  const mirror = (typeof flags.mirror === 'string' ? flags.mirror : undefined) ?? env.MPM_MIRROR ?? cfg.mirror;
  if (!mirror) throw new MorphuxError('bad_request', 'no mirror: pass --mirror URL, set MPM_MIRROR, or "mirror" in the mpm config');
  const publicKeys = flags.publicKey?.length ? flags.publicKey : env.MPM_PUBLIC_KEYS ? env.MPM_PUBLIC_KEYS.split(/[\s,]+/).filter(Boolean) : (cfg.public_keys ?? []);
  const contentKeysFile = flags.contentKeys ?? env.MPM_CONTENT_KEYS ?? cfg.content_keys_file ?? null;
  const caFile = flags.caFile ?? env.MPM_CA_FILE ?? cfg.ca_file ?? null;
  const stateFile = path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'mpm', 'mirrors.json');
  return { mirror, publicKeys, contentKeysFile, caFile, stateFile };
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

/** The entry a spec names: NAME (best eligible), NAME@VERSION, or a pkgid. */
export function pickEntry(entries: IndexEntry[], spec: string, arch: string): IndexEntry {
  const forArch = entries.filter((e) => e.arch === arch);
  let hits: IndexEntry[];
  if (/^[0-9]+$/.test(spec)) hits = forArch.filter((e) => e.pkgid === Number(spec));
  else {
    const at = spec.indexOf('@');
    const name = at < 0 ? spec : spec.slice(0, at);
    const version = at < 0 ? null : spec.slice(at + 1);
    hits = forArch.filter((e) => e.name === name && e.eligible && (version === null || e.version === version));
  }
  hits.sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
  if (!hits[0]) throw new MorphuxError('not_found', `no artifact for ${spec} (${arch}) in the mirror's index`, { spec, arch });
  return hits[0];
}

export async function mpmMirrorGet(o: MirrorGetOptions): Promise<MirrorGetResult> {
  if (o.publicKeys.length === 0) throw new MorphuxError('bad_request', 'no trusted public key: pass --public-key ed25519:… (from `morphux keys show-public`)');
  const trusted = new Map<string, KeyObject>();
  for (const k of o.publicKeys) {
    const key = parsePublicKey(k);
    trusted.set(signingKeyId(key), key);
  }
  const contentKeys = await readContentKeys(o.contentKeysFile);
  const mirrorKey = o.mirror.replace(/\/+$/, '');
  const state = JSON.parse(await readFile(o.stateFile, 'utf8').catch(() => '{}')) as Record<string, { sequence: number; origin: string; at: string }>;
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
    const entry = pickEntry(index.artifacts, o.spec, o.arch);
    checkFileNameParts(entry);
    const sealed = await src.get(entry.path, 4 * 1024 ** 3, (n) => o.progress?.(entry.path, n));
    const sha256 = createHash('sha256').update(sealed).digest('hex');
    if (sealed.length !== entry.size || sha256 !== entry.sha256) {
      throw new MorphuxError('digest_mismatch', `${entry.path}: ${sealed.length} bytes, sha256 ${sha256}; the signed index says ${entry.size}, ${entry.sha256}`, { path: entry.path });
    }
    const id = { name: entry.name, version: entry.version, pkgid: entry.pkgid, arch: entry.arch };
    const compressed = openArtifact(sealed, id, contentKeys);
    verifyArtifactSig(await src.get(entry.sig_path, 64 * 1024), compressed, id, trusted);
    let file: string | null = null;
    let extracted: string | null = null;
    if (o.extract) extracted = await extractTo(compressed, entry.compression, o.extract);
    else {
      file = path.resolve(o.output ?? `${entry.name}-${entry.version}-${entry.pkgid}.${entry.arch}.tar.${entry.compression === 'zstd' ? 'zst' : 'xz'}`);
      await writeNew(file, compressed);
    }
    state[mirrorKey] = { sequence: Math.max(index.sequence, state[mirrorKey]?.sequence ?? 0), origin: index.origin, at: new Date().toISOString() };
    await mkdir(path.dirname(o.stateFile), { recursive: true });
    await writeNew(o.stateFile, JSON.stringify(state, null, 2) + '\n');
    return { mirror: mirrorKey, ...id, sequence: index.sequence, sha256, file, extracted };
  } finally {
    src.close();
  }
}

/** Refuses an index entry whose name, version or arch could not be one part of a file name. */
function checkFileNameParts(id: { name: string; version: string; arch: string }): void {
  checkPackageName(id.name);
  checkVersion(id.version);
  if (!/^[A-Za-z0-9_]{1,32}$/.test(id.arch)) throw new MorphuxError('bad_request', `the mirror's index names a bad arch ${JSON.stringify(id.arch.slice(0, 40))}`);
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
async function writeNew(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.part-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** Decompresses and unpacks into a fresh folder beside `dir`, then renames it to `dir` (which must not exist). */
async function extractTo(compressed: Buffer, codec: 'zstd' | 'xz', dir: string): Promise<string> {
  const target = path.resolve(dir);
  if (existsSync(target)) throw new MorphuxError('already_exists', `${target} exists; --extract makes a new folder`);
  let tarBytes: Buffer;
  try {
    tarBytes = Buffer.from((await execa(codec, ['-d', '-c', '-q'], { input: compressed, encoding: 'buffer', stripFinalNewline: false, maxBuffer: 8 * 1024 ** 3 })).stdout);
  } catch (e) {
    throw new MorphuxError('unsafe_archive', `cannot decompress with ${codec}: ${(e as Error).message.split('\n')[0]}`);
  }
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
