// Signed key rotation: when `morphux keys rotate` replaces the signing key, the OLD key signs a
// statement naming the NEW one (its id and public key, the date, the rotation's number), published
// on the mirrors as keys/rotation-<n>.json with a detached signature (.sig) before any index the
// new key signs. A client that trusts only an older key follows the chain, each link checked with
// a key it already trusts. Pure: no I/O.
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';
import { formatPublicKey, parsePublicKey, signingKeyId, signWithContext, verifyWithContext } from './signed-index.js';

export const ROTATION_FORMAT = 'morphux-key-rotation-v1';
const ROTATION_SIG_FORMAT = 'morphux-key-rotation-sig-v1';
/** A context of its own: a rotation signature is never an index's or an artifact's. */
const ROTATION_CONTEXT = `${ROTATION_FORMAT}\n`;

const keyId = z.string().regex(/^[0-9a-f]{16}$/);

const statementSchema = z.object({
  format: z.literal(ROTATION_FORMAT),
  /** 1 for the first rotation after `keys init`, then one more each time */
  number: z.number().int().positive(),
  old_key_id: keyId,
  new_key_id: keyId,
  /** ed25519:<base64>, as users pin it */
  new_public_key: z.string(),
  rotated_at: z.string(),
}).strict();
export type RotationStatement = z.infer<typeof statementSchema>;

const sigSchema = z.object({
  format: z.literal(ROTATION_SIG_FORMAT),
  key_id: keyId,
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
}).strict();

/** The statement's file text and its detached signature's, signed by the old key. */
export function signRotation(o: { number: number; oldKeyId: string; oldPrivateKey: KeyObject; newPublicKey: KeyObject; rotatedAt: string }): { json: string; sig: string } {
  const statement: RotationStatement = {
    format: ROTATION_FORMAT, number: o.number, old_key_id: o.oldKeyId,
    new_key_id: signingKeyId(o.newPublicKey), new_public_key: formatPublicKey(o.newPublicKey), rotated_at: o.rotatedAt,
  };
  const json = JSON.stringify(statement, null, 2) + '\n';
  const sig = JSON.stringify({ format: ROTATION_SIG_FORMAT, key_id: o.oldKeyId, signature: signWithContext(ROTATION_CONTEXT, json, o.oldPrivateKey) }) + '\n';
  return { json, sig };
}

/**
 * Checks rotation statement `number` (the file's bytes and its .sig's) against the keys trusted so
 * far: signed by the key it says it replaces, that key trusted, the signature valid, the new key's
 * id its own. Returns the statement and the new key; throws unknown_key or signature_invalid.
 */
export function verifyRotation(json: string | Buffer, sig: string | Buffer, number: number, trusted: Map<string, KeyObject>): { statement: RotationStatement; newKey: KeyObject } {
  const where = `key rotation statement ${number}`;
  let statement: RotationStatement;
  let s: z.infer<typeof sigSchema>;
  try {
    statement = statementSchema.parse(JSON.parse(String(json)));
    s = sigSchema.parse(JSON.parse(String(sig)));
  } catch {
    throw new MorphuxError('signature_invalid', `${where} is not a signed Morphux key rotation`, { number });
  }
  if (statement.number !== number) throw new MorphuxError('signature_invalid', `${where} says it is number ${statement.number}`, { number });
  if (s.key_id !== statement.old_key_id) {
    throw new MorphuxError('signature_invalid', `${where} is signed by key ${s.key_id}, not by the key it replaces (${statement.old_key_id})`, { number, key_id: s.key_id });
  }
  const key = trusted.get(s.key_id);
  if (!key) throw new MorphuxError('unknown_key', `${where} is signed by key ${s.key_id}, which is not trusted`, { number, key_id: s.key_id });
  if (!verifyWithContext(ROTATION_CONTEXT, Buffer.from(json), s.signature, key)) {
    throw new MorphuxError('signature_invalid', `${where}: the signature does not verify with key ${s.key_id}`, { number, key_id: s.key_id });
  }
  let newKey: KeyObject;
  try {
    newKey = parsePublicKey(statement.new_public_key);
  } catch {
    throw new MorphuxError('signature_invalid', `${where} names a malformed public key`, { number });
  }
  if (signingKeyId(newKey) !== statement.new_key_id) throw new MorphuxError('signature_invalid', `${where}: new_key_id is not the id of new_public_key`, { number });
  return { statement, newKey };
}
