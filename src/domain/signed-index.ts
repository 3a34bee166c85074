// The signed index of a mirror (the Release/APKINDEX of Morphux): its payload, the envelope that
// carries it with an Ed25519 signature, and the checks a client makes before trusting it (known
// key, valid signature, not expired, not older than the last one seen). Pure: no I/O.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';

export const INDEX_FORMAT = 'morphux-index-v1';
export const ENVELOPE_FORMAT = 'morphux-signed-index-v1';
/** Signed bytes start with a context string, so an index signature is never an artifact's. */
const INDEX_CONTEXT = `${INDEX_FORMAT}\n`;

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
/** a file under the mirror's pool/, relative to its root, never climbing */
const poolPath = z.string().regex(/^pool\/[A-Za-z0-9._+~/-]+$/).refine((p) => !p.split('/').includes('..'));

export const indexEntrySchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  pkgid: z.number().int().positive(),
  arch: z.string().min(1),
  /** the encrypted artifact, relative to the mirror's root */
  path: poolPath,
  /** its detached signature (.sig), relative to the mirror's root */
  sig_path: z.string().regex(/^pool\/[A-Za-z0-9._+~/-]+\.sig$/).refine((p) => !p.split('/').includes('..')),
  /** size and sha256 of the encrypted artifact, as on the mirror */
  size: z.number().int().nonnegative(),
  sha256: hex(64),
  /** id of the content key it is encrypted under */
  key_id: hex(16),
  /** id of the signing key of its detached signature */
  signing_key_id: hex(16),
  compression: z.enum(['zstd', 'xz']),
  /** what GET /port/<name> may resolve to (a maintainer's, an admin's or the stable submission) */
  eligible: z.boolean(),
  published_at: z.string(),
  // What resolution needs offline (`mpm install --mirror`). Optional: indexes signed before these
  // fields existed still verify and parse (the signature covers the payload's bytes as sent).
  /** the submission's runtime dependencies as declared: name → version range */
  dependencies: z.record(z.string().min(1), z.string()).optional(),
  /** bytes the install takes (status.json's build of this arch: regular files, each inode once) */
  installed_size: z.number().int().nonnegative().optional(),
  /** sha256 of the build's manifest in clear (binaries/<arch>/manifest.json as committed, the
   *  bytes the server serves; what an install plan's manifest.sha256 is) */
  manifest_sha256: hex(64).optional(),
  /** that manifest sealed like the artifact (sealed-artifact.ts sealManifest: under key_id, bound
   *  to this artifact), on the mirror beside it, relative to its root */
  manifest_path: poolPath.optional(),
  /** size and sha256 of the sealed manifest, as on the mirror (checked before it is decrypted;
   *  manifest_sha256 after). An index of plain manifests (manifest_path without these) predates
   *  sealing: mpm install refuses such an entry as unavailable */
  manifest_sealed_size: z.number().int().nonnegative().optional(),
  manifest_sealed_sha256: hex(64).optional(),
  /** sha256 of the build's binaries archive as committed (binaries/<arch>/files.tar.gz, what the
   *  server serves and what its provenance's subject names): the artifact is that archive's tar
   *  recompressed, so its own sha256 differs */
  binaries_sha256: hex(64).optional(),
  /** the build's signed provenance (domain/provenance-statement.ts: a DSSE envelope, the bytes of
   *  binaries/<arch>/provenance.dsse.json as committed, in clear), on the mirror beside the
   *  artifact, relative to its root; absent when the build has none signed, or in an index signed
   *  before provenance was published (`--require-provenance` then refuses: provenance_missing) */
  provenance_path: poolPath.optional(),
  /** size and sha256 of that file, as on the mirror (checked before its signature is) */
  provenance_size: z.number().int().nonnegative().optional(),
  provenance_sha256: hex(64).optional(),
}).strict();
export type IndexEntry = z.infer<typeof indexEntrySchema>;

export const indexPayloadSchema = z.object({
  format: z.literal(INDEX_FORMAT),
  origin: z.string().min(1),
  /** grows by one with every index the publisher signs: a lower one is a replay */
  sequence: z.number().int().positive(),
  generated_at: z.string(),
  valid_until: z.string(),
  artifacts: z.array(indexEntrySchema),
}).strict();
export type IndexPayload = z.infer<typeof indexPayloadSchema>;

const envelopeSchema = z.object({
  format: z.literal(ENVELOPE_FORMAT),
  key_id: hex(16),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
  /** the index payload as JSON text: the signed bytes are exactly these (after the context) */
  payload: z.string(),
}).strict();

/** Key id of an Ed25519 public key: the first 16 hex digits of sha256 of its 32 raw bytes. */
export function signingKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new MorphuxError('bad_request', 'not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

/** The text form of a public key users pin: `ed25519:<base64 of the 32 raw bytes>`. */
export function formatPublicKey(publicKey: KeyObject): string {
  return `ed25519:${rawPublicKey(publicKey).toString('base64')}`;
}

export function parsePublicKey(text: string): KeyObject {
  const b64 = text.trim().replace(/^ed25519:/, '');
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) throw new MorphuxError('bad_request', 'a public key is ed25519:<base64 of 32 bytes>');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** Signs `context + message` with Ed25519 (the shared primitive of index and artifact signatures). */
export function signWithContext(context: string, message: Buffer | string, privateKey: KeyObject): string {
  return sign(null, Buffer.concat([Buffer.from(context), Buffer.from(message)]), privateKey).toString('base64');
}

export function verifyWithContext(context: string, message: Buffer | string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.concat([Buffer.from(context), Buffer.from(message)]), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The index file's text: the payload as JSON, signed, in an envelope. */
export function signIndex(payload: IndexPayload, privateKey: KeyObject, keyId: string): string {
  const text = JSON.stringify(indexPayloadSchema.parse(payload));
  const envelope = { format: ENVELOPE_FORMAT, key_id: keyId, signature: signWithContext(INDEX_CONTEXT, text, privateKey), payload: text };
  return JSON.stringify(envelope, null, 2) + '\n';
}

export interface VerifyIndexOptions {
  /** the public keys the client trusts, by key id */
  trusted: Map<string, KeyObject>;
  now: Date;
  /** the highest sequence this client has accepted from this source before, if any */
  lastSequence?: number;
}

/**
 * Checks a signed index: well-formed, signed by a trusted key, the signature valid, not expired,
 * not older than the last one accepted. Throws a MorphuxError with the failing check's code.
 */
export function verifySignedIndex(text: string | Buffer, o: VerifyIndexOptions): IndexPayload {
  let envelope: z.infer<typeof envelopeSchema>;
  try {
    envelope = envelopeSchema.parse(JSON.parse(String(text)));
  } catch {
    throw new MorphuxError('signature_invalid', 'the index is not a signed Morphux index');
  }
  const key = o.trusted.get(envelope.key_id);
  if (!key) throw new MorphuxError('unknown_key', `the index is signed by key ${envelope.key_id}, which is not trusted`, { key_id: envelope.key_id });
  if (!verifyWithContext(INDEX_CONTEXT, envelope.payload, envelope.signature, key)) {
    throw new MorphuxError('signature_invalid', `the index signature does not verify with key ${envelope.key_id}`, { key_id: envelope.key_id });
  }
  let payload: IndexPayload;
  try {
    payload = indexPayloadSchema.parse(JSON.parse(envelope.payload));
  } catch {
    throw new MorphuxError('signature_invalid', 'the signed index payload is not a Morphux index');
  }
  const until = Date.parse(payload.valid_until);
  if (!Number.isFinite(until) || until <= o.now.getTime()) {
    throw new MorphuxError('index_expired', `the index expired at ${payload.valid_until}`, { valid_until: payload.valid_until, sequence: payload.sequence });
  }
  if (o.lastSequence !== undefined && payload.sequence < o.lastSequence) {
    throw new MorphuxError('index_replayed', `the index has sequence ${payload.sequence}, older than ${o.lastSequence} already seen`, { sequence: payload.sequence, last_sequence: o.lastSequence });
  }
  return payload;
}
