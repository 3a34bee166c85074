// A published artifact's files: the compressed binaries sealed with AES-256-GCM under a content
// key (header = magic, version, key id, nonce; the header and the artifact's identity are
// authenticated data), its detached Ed25519 signature (.sig) over a statement naming the artifact
// and the sha256 of its compressed bytes, and its build's manifest sealed the same way under the
// same key (its own magic and associated-data label: a sealed manifest never opens as an artifact,
// nor the other way round, nor as another artifact's). Pure: no I/O.
import { createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';
import { signWithContext, verifyWithContext } from './signed-index.js';

const VERSION = 1;
const HEADER_LEN = 4 + 1 + 8 + 12;
const TAG_LEN = 16;
/** bytes a sealed file has beyond what it seals (header and tag) */
export const SEALED_OVERHEAD = HEADER_LEN + TAG_LEN;
const SIG_FORMAT = 'morphux-artifact-sig-v1';
const SIG_CONTEXT = `${SIG_FORMAT}\n`;

/**
 * What a sealed file holds. Each kind has its magic (the header's first 4 bytes) and a label that
 * starts the associated data after the header; both are authenticated, so bytes sealed as one kind
 * never open as the other. An artifact's label is empty: its associated data has been header ‖
 * identity since the first sealed artifact, and published artifacts must keep opening.
 */
export type SealedKind = 'artifact' | 'manifest';
const KINDS: Record<SealedKind, { magic: Buffer; label: string }> = {
  artifact: { magic: Buffer.from('MPXA'), label: '' },
  manifest: { magic: Buffer.from('MPXM'), label: 'morphux-sealed-manifest-v1\n' },
};

export interface ArtifactIdentity {
  name: string;
  version: string;
  pkgid: number;
  arch: string;
}

export interface ContentKey {
  id: string;
  key: Buffer;
}

/** Id of a content key: 16 hex digits of sha256 over a label and the key (reveals nothing of it). */
export function contentKeyId(key: Buffer): string {
  if (key.length !== 32) throw new MorphuxError('bad_request', 'a content key is 32 bytes');
  return createHash('sha256').update('morphux-content-key-id\n').update(key).digest('hex').slice(0, 16);
}

const identityText = (a: ArtifactIdentity) => `${a.name}\n${a.version}\n${a.pkgid}\n${a.arch}\n`;

const aad = (kind: SealedKind, header: Buffer, id: ArtifactIdentity) => Buffer.concat([header, Buffer.from(KINDS[kind].label + identityText(id))]);

/** Encrypts `plain` as `kind` of one artifact under `key`: header ‖ ciphertext ‖ tag. */
function sealAs(kind: SealedKind, plain: Buffer, id: ArtifactIdentity, key: ContentKey): Buffer {
  const header = Buffer.concat([KINDS[kind].magic, Buffer.from([VERSION]), Buffer.from(key.id, 'hex'), randomBytes(12)]);
  const cipher = createCipheriv('aes-256-gcm', key.key, header.subarray(HEADER_LEN - 12), { authTagLength: TAG_LEN });
  cipher.setAAD(aad(kind, header, id));
  return Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The content key id a sealed file of `kind` names in its header; decrypt_failed when it is not one. */
export function sealedKeyId(sealed: Buffer, kind: SealedKind = 'artifact'): string {
  if (sealed.length < HEADER_LEN + TAG_LEN || !sealed.subarray(0, 4).equals(KINDS[kind].magic) || sealed[4] !== VERSION) {
    throw new MorphuxError('decrypt_failed', `not a sealed Morphux ${kind}`);
  }
  return sealed.subarray(5, 13).toString('hex');
}

/** Decrypts and authenticates a sealed `kind`; any change to header, ciphertext, tag, kind or identity fails. */
function openAs(kind: SealedKind, sealed: Buffer, id: ArtifactIdentity, keys: Map<string, Buffer>): Buffer {
  const keyId = sealedKeyId(sealed, kind);
  const key = keys.get(keyId);
  if (!key) throw new MorphuxError('unknown_key', `the ${kind} is encrypted under content key ${keyId}, which this client does not hold`, { key_id: keyId });
  const header = sealed.subarray(0, HEADER_LEN);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(HEADER_LEN - 12), { authTagLength: TAG_LEN });
  decipher.setAAD(aad(kind, header, id));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_LEN, sealed.length - TAG_LEN)), decipher.final()]);
  } catch {
    throw new MorphuxError('decrypt_failed', `the ${kind} of ${id.name} ${id.version} (pkgid ${id.pkgid}, ${id.arch}) does not decrypt: tampered, another's, or the wrong key`);
  }
}

/** Encrypts compressed bytes for one artifact. */
export const sealArtifact = (plain: Buffer, id: ArtifactIdentity, key: ContentKey): Buffer => sealAs('artifact', plain, id, key);
/** Decrypts a sealed artifact of `id`. */
export const openArtifact = (sealed: Buffer, id: ArtifactIdentity, keys: Map<string, Buffer>): Buffer => openAs('artifact', sealed, id, keys);
/** Encrypts an artifact's manifest (its build's manifest.json bytes), bound to that artifact. */
export const sealManifest = (plain: Buffer, id: ArtifactIdentity, key: ContentKey): Buffer => sealAs('manifest', plain, id, key);
/** Decrypts the sealed manifest of `id`'s artifact. */
export const openManifest = (sealed: Buffer, id: ArtifactIdentity, keys: Map<string, Buffer>): Buffer => openAs('manifest', sealed, id, keys);

const sigSchema = z.object({ format: z.literal(SIG_FORMAT), key_id: z.string().regex(/^[0-9a-f]{16}$/), signature: z.string() }).strict();

const statement = (id: ArtifactIdentity, compressed: Buffer) =>
  `${identityText(id)}${createHash('sha256').update(compressed).digest('hex')}\n`;

/** The detached signature file's text for an artifact's compressed bytes. */
export function signArtifact(compressed: Buffer, id: ArtifactIdentity, privateKey: KeyObject, keyId: string): string {
  return JSON.stringify({ format: SIG_FORMAT, key_id: keyId, signature: signWithContext(SIG_CONTEXT, statement(id, compressed), privateKey) }) + '\n';
}

/** Checks a detached signature against the decrypted, compressed bytes; throws on failure. */
export function verifyArtifactSig(sigText: string | Buffer, compressed: Buffer, id: ArtifactIdentity, trusted: Map<string, KeyObject>): void {
  let sig: z.infer<typeof sigSchema>;
  try {
    sig = sigSchema.parse(JSON.parse(String(sigText)));
  } catch {
    throw new MorphuxError('signature_invalid', `the signature file of ${id.name} (pkgid ${id.pkgid}) is not a Morphux signature`);
  }
  const key = trusted.get(sig.key_id);
  if (!key) throw new MorphuxError('unknown_key', `artifact ${id.name} (pkgid ${id.pkgid}) is signed by key ${sig.key_id}, which is not trusted`, { key_id: sig.key_id });
  if (!verifyWithContext(SIG_CONTEXT, statement(id, compressed), sig.signature, key)) {
    throw new MorphuxError('signature_invalid', `the signature of ${id.name} (pkgid ${id.pkgid}) does not verify`, { key_id: sig.key_id });
  }
}
