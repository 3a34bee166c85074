// DSSE envelopes (https://github.com/secure-systems-lab/dsse), Ed25519: the pre-authentication
// encoding PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload is
// what is signed, never the JSON of the envelope; PAE's "DSSEv1 " prefix keeps these signatures
// apart from the mirror index's, the artifacts' and the key rotations' (each starts with its own
// context string). Carries build provenance (provenance-statement.ts). Pure: no I/O.
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';

/** The signing half of a publishing key (publish/publish-keys.ts SigningKey fits). */
export interface DsseKey {
  /** signingKeyId of its public half (domain/signed-index.ts) */
  id: string;
  privateKey: KeyObject;
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/);
export const envelopeSchema = z.object({
  payload: b64,
  payloadType: z.string(),
  signatures: z.array(z.object({ keyid: z.string().default(''), sig: b64 }).passthrough()),
}).passthrough();

/** DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (LEN: bytes, ASCII decimal). */
export function pae(payloadType: string, payload: Buffer | string): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const body = Buffer.from(payload);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** An envelope for `payload`, signed with `key` (Ed25519 over its PAE); no key: unsigned (no signatures). */
export function signEnvelope(payloadType: string, payload: Buffer | string, key: DsseKey | null): DsseEnvelope {
  const body = Buffer.from(payload);
  const signatures = key ? [{ keyid: key.id, sig: sign(null, pae(payloadType, body), key.privateKey).toString('base64') }] : [];
  return { payload: body.toString('base64'), payloadType, signatures };
}

export const invalidProvenance = (message: string, reason: string, data: Record<string, unknown> = {}) =>
  new MorphuxError('provenance_invalid', message, { reason, ...data });

/** The key ids an envelope's signatures name, without checking anything (to find a key to trust); [] when it is not one. */
export function envelopeKeyIds(text: string | Buffer): string[] {
  try {
    return envelopeSchema.parse(JSON.parse(String(text))).signatures.map((s) => s.keyid).filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Checks an envelope: well-formed, of `payloadType`, with a signature by a trusted key that
 * verifies over the PAE. Returns the payload's bytes and the key that verified it; throws
 * provenance_invalid (data.reason: malformed, unsigned, unknown_key, signature).
 */
export function verifyEnvelope(text: string | Buffer, payloadType: string, trusted: ReadonlyMap<string, KeyObject>): { payload: Buffer; keyId: string } {
  let env: z.infer<typeof envelopeSchema>;
  try {
    env = envelopeSchema.parse(JSON.parse(String(text)));
  } catch {
    throw invalidProvenance('the provenance is not a DSSE envelope', 'malformed');
  }
  if (env.payloadType !== payloadType) throw invalidProvenance(`the envelope's payloadType is ${JSON.stringify(env.payloadType)}, not ${payloadType}`, 'malformed');
  if (!env.signatures.length) throw invalidProvenance('the provenance is not signed (the instance had no publishing key when it was recorded)', 'unsigned');
  const payload = Buffer.from(env.payload, env.payload.includes('-') || env.payload.includes('_') ? 'base64url' : 'base64');
  const message = pae(env.payloadType, payload);
  const ids = env.signatures.map((s) => s.keyid);
  for (const s of env.signatures) {
    // a signature without a key id is tried with every trusted key (DSSE: keyid is only a hint)
    const keys: Array<[string, KeyObject]> = s.keyid ? (trusted.has(s.keyid) ? [[s.keyid, trusted.get(s.keyid)!]] : []) : [...trusted];
    for (const [id, key] of keys) {
      let ok = false;
      try {
        ok = verify(null, message, key, Buffer.from(s.sig, 'base64'));
      } catch { /* malformed signature bytes: not valid */ }
      if (ok) return { payload, keyId: id };
    }
  }
  if (!env.signatures.some((s) => !s.keyid || trusted.has(s.keyid))) {
    throw invalidProvenance(`the provenance is signed by key ${ids.join(', ')}, which is not trusted`, 'unknown_key', { key_ids: ids });
  }
  throw invalidProvenance(`the provenance signature does not verify with key ${ids.join(', ')}`, 'signature', { key_ids: ids });
}
