// A published artifact's two files: the compressed binaries sealed with AES-256-GCM under a
// content key (header = magic, version, key id, nonce; the header and the artifact's identity
// are authenticated data), and its detached Ed25519 signature (.sig) over a statement naming the
// artifact and the sha256 of its compressed bytes. Pure: no I/O.
import { createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';
import { signWithContext, verifyWithContext } from './signed-index.js';

const MAGIC = Buffer.from('MPXA');
const VERSION = 1;
const HEADER_LEN = MAGIC.length + 1 + 8 + 12;
const TAG_LEN = 16;
const SIG_FORMAT = 'morphux-artifact-sig-v1';
const SIG_CONTEXT = `${SIG_FORMAT}\n`;

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

/** Encrypts compressed bytes for one artifact: header ‖ ciphertext ‖ tag. */
export function sealArtifact(plain: Buffer, id: ArtifactIdentity, key: ContentKey): Buffer {
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), Buffer.from(key.id, 'hex'), randomBytes(12)]);
  const cipher = createCipheriv('aes-256-gcm', key.key, header.subarray(HEADER_LEN - 12), { authTagLength: TAG_LEN });
  cipher.setAAD(Buffer.concat([header, Buffer.from(identityText(id))]));
  return Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The content key id a sealed artifact names in its header. */
export function sealedKeyId(sealed: Buffer): string {
  if (sealed.length < HEADER_LEN + TAG_LEN || !sealed.subarray(0, 4).equals(MAGIC) || sealed[4] !== VERSION) {
    throw new MorphuxError('decrypt_failed', 'not a sealed Morphux artifact');
  }
  return sealed.subarray(5, 13).toString('hex');
}

/** Decrypts and authenticates; any change to header, ciphertext, tag or identity fails. */
export function openArtifact(sealed: Buffer, id: ArtifactIdentity, keys: Map<string, Buffer>): Buffer {
  const keyId = sealedKeyId(sealed);
  const key = keys.get(keyId);
  if (!key) throw new MorphuxError('unknown_key', `the artifact is encrypted under content key ${keyId}, which this client does not hold`, { key_id: keyId });
  const header = sealed.subarray(0, HEADER_LEN);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(HEADER_LEN - 12), { authTagLength: TAG_LEN });
  decipher.setAAD(Buffer.concat([header, Buffer.from(identityText(id))]));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_LEN, sealed.length - TAG_LEN)), decipher.final()]);
  } catch {
    throw new MorphuxError('decrypt_failed', `artifact ${id.name} ${id.version} (pkgid ${id.pkgid}, ${id.arch}) does not decrypt: tampered or the wrong key`);
  }
}

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
