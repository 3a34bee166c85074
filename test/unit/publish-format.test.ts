// The publishing formats without I/O: the signed index and its checks, sealed artifacts and their
// detached signatures, key rotation statements, FTP hash replies, the back-off; and
// morphux.example.yaml documenting every publish default.
import { expect } from 'chai';
import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { configSchema } from '../../src/config/config-schema.js';
import { contentKeyId, openArtifact, openManifest, SEALED_OVERHEAD, sealArtifact, sealManifest, signArtifact, verifyArtifactSig } from '../../src/domain/sealed-artifact.js';
import { formatPublicKey, parsePublicKey, signIndex, signingKeyId, signWithContext, verifySignedIndex, type IndexEntry, type IndexPayload } from '../../src/domain/signed-index.js';
import { signRotation, verifyRotation } from '../../src/domain/key-rotation.js';
import { parseHashReply } from '../../src/publish/ftp-mirror.js';
import { recordFailure } from '../../src/publish/mirror-state.js';
import { codeOf } from '../support/error-codes.js';

const k = generateKeyPairSync('ed25519');
const kid = signingKeyId(k.publicKey);
const trusted = new Map([[kid, k.publicKey]]);
const now = new Date('2030-01-01T00:00:00Z');
const payload = (sequence: number, validDays = 7): IndexPayload => ({
  format: 'morphux-index-v1', origin: 'morphux', sequence, generated_at: now.toISOString(),
  valid_until: new Date(now.getTime() + validDays * 86_400_000).toISOString(), artifacts: [],
});
const id = { name: 'hello', version: '1.0', pkgid: 1, arch: 'x86_64' };
const key = randomBytes(32);
const ck = { id: contentKeyId(key), key };

describe('publish formats', () => {
  it('round-trips a public key through its pinned text form', () => {
    expect(signingKeyId(parsePublicKey(formatPublicKey(k.publicKey)))).to.equal(kid);
    expect(codeOf(() => parsePublicKey('ed25519:AAAA'))).to.equal('bad_request');
  });

  const indexCases: Array<[string, () => string, { lastSequence?: number }, string | null]> = [
    ['a good index', () => signIndex(payload(3), k.privateKey, kid), {}, null],
    ['the same sequence again', () => signIndex(payload(3), k.privateKey, kid), { lastSequence: 3 }, null],
    ['an older sequence', () => signIndex(payload(2), k.privateKey, kid), { lastSequence: 3 }, 'index_replayed'],
    ['an expired index', () => signIndex(payload(3, -1), k.privateKey, kid), {}, 'index_expired'],
    ['a changed payload', () => signIndex(payload(3), k.privateKey, kid).replace('"sequence\\":3', '"sequence\\":9'), {}, 'signature_invalid'],
    ['an unknown key', () => { const o = generateKeyPairSync('ed25519'); return signIndex(payload(3), o.privateKey, signingKeyId(o.publicKey)); }, {}, 'unknown_key'],
    ['not JSON', () => 'nope', {}, 'signature_invalid'],
  ];
  for (const [what, text, o, code] of indexCases) {
    it(`index check: ${what} → ${code ?? 'accepted'}`, () => {
      expect(codeOf(() => verifySignedIndex(text(), { trusted, now, ...o }))).to.equal(code);
    });
  }

  // an artifact entry as publishers wrote them before the resolution fields existed
  const oldEntry = {
    name: 'hello', version: '1.0', pkgid: 1, arch: 'x86_64',
    path: 'pool/h/hello/hello_1.0_1_x86_64.0123456789ab.tar.zst.enc', sig_path: 'pool/h/hello/hello_1.0_1_x86_64.0123456789ab.tar.zst.enc.sig',
    size: 1234, sha256: 'b'.repeat(64), key_id: 'c'.repeat(16), signing_key_id: kid, compression: 'zstd', eligible: true, published_at: now.toISOString(),
  } satisfies IndexEntry;
  const resolution = { dependencies: { libgreet: '>=1.0 <2' }, installed_size: 16384, manifest_sha256: 'd'.repeat(64) };

  it('an index signed before the resolution fields existed still verifies and parses', () => {
    // its exact bytes, signed as the older publisher did: the signature covers the payload text
    const text = JSON.stringify({ ...payload(4), artifacts: [oldEntry] });
    const envelope = JSON.stringify({ format: 'morphux-signed-index-v1', key_id: kid, signature: signWithContext('morphux-index-v1\n', text, k.privateKey), payload: text });
    const got = verifySignedIndex(envelope, { trusted, now });
    expect(got.artifacts).to.have.length(1);
    expect(got.artifacts[0]).to.deep.equal(oldEntry);
    for (const f of ['dependencies', 'installed_size', 'manifest_sha256']) expect(got.artifacts[0]).not.to.have.property(f);
  });

  it('an index entry carries the dependencies, installed size and manifest sha256', () => {
    const got = verifySignedIndex(signIndex({ ...payload(5), artifacts: [{ ...oldEntry, ...resolution }] }, k.privateKey, kid), { trusted, now });
    expect(got.artifacts[0]).to.deep.include(resolution);
    expect(got.artifacts[0].dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
  });

  for (const [what, bad] of [['a negative installed size', { installed_size: -1 }], ['a manifest sha256 not of 64 hex digits', { manifest_sha256: 'xyz' }], ['a range that is not text', { dependencies: { libgreet: 1 } }]] as const) {
    it(`an index entry with ${what} is not signed, nor accepted`, () => {
      const entry = { ...oldEntry, ...resolution, ...bad } as unknown as IndexEntry;
      expect(codeOf(() => signIndex({ ...payload(6), artifacts: [entry] }, k.privateKey, kid))).to.equal('other');
      const text = JSON.stringify({ ...payload(6), artifacts: [entry] });
      const envelope = JSON.stringify({ format: 'morphux-signed-index-v1', key_id: kid, signature: signWithContext('morphux-index-v1\n', text, k.privateKey), payload: text });
      expect(codeOf(() => verifySignedIndex(envelope, { trusted, now }))).to.equal('signature_invalid');
    });
  }

  const plain = randomBytes(1000);
  const sealed = sealArtifact(plain, id, ck);
  const flip = (b: Buffer, at: number) => { const c = Buffer.from(b); c[at] ^= 1; return c; };
  const artifactCases: Array<[string, () => unknown, string | null]> = [
    ['the right key', () => openArtifact(sealed, id, new Map([[ck.id, key]])), null],
    ['a flipped ciphertext byte', () => openArtifact(flip(sealed, 100), id, new Map([[ck.id, key]])), 'decrypt_failed'],
    ['a flipped tag byte', () => openArtifact(flip(sealed, sealed.length - 1), id, new Map([[ck.id, key]])), 'decrypt_failed'],
    ['another identity (a swapped artifact)', () => openArtifact(sealed, { ...id, pkgid: 2 }, new Map([[ck.id, key]])), 'decrypt_failed'],
    ['a key the client lacks', () => openArtifact(sealed, id, new Map()), 'unknown_key'],
    ['a wrong key under the same id', () => openArtifact(sealed, id, new Map([[ck.id, randomBytes(32)]])), 'decrypt_failed'],
  ];
  for (const [what, fn, code] of artifactCases) {
    it(`artifact open: ${what} → ${code ?? 'decrypted'}`, () => expect(codeOf(fn)).to.equal(code));
  }

  it('decrypts to the sealed bytes and checks the detached signature', () => {
    expect(openArtifact(sealed, id, new Map([[ck.id, key]]))).to.deep.equal(plain);
    const sig = signArtifact(plain, id, k.privateKey, kid);
    expect(codeOf(() => verifyArtifactSig(sig, plain, id, trusted))).to.equal(null);
    expect(codeOf(() => verifyArtifactSig(sig, flip(plain, 0), id, trusted))).to.equal('signature_invalid');
    expect(codeOf(() => verifyArtifactSig(sig, plain, { ...id, version: '1.1' }, trusted))).to.equal('signature_invalid');
    expect(codeOf(() => verifyArtifactSig(sig, plain, id, new Map()))).to.equal('unknown_key');
  });

  it('an artifact sealed as before manifests were sealed (header ‖ identity as associated data) still opens', () => {
    const header = Buffer.concat([Buffer.from('MPXA'), Buffer.from([1]), Buffer.from(ck.id, 'hex'), randomBytes(12)]);
    const c = createCipheriv('aes-256-gcm', key, header.subarray(13), { authTagLength: 16 });
    c.setAAD(Buffer.concat([header, Buffer.from('hello\n1.0\n1\nx86_64\n')]));
    const old = Buffer.concat([header, c.update(plain), c.final(), c.getAuthTag()]);
    expect(openArtifact(old, id, new Map([[ck.id, key]]))).to.deep.equal(plain);
  });

  const manifestText = Buffer.from(JSON.stringify({ pkgid: 1, name: 'hello', version: '1.0', arch: 'x86_64', files: [{ path: '/usr/bin/hello-secret-name', type: 'file', mode: 0o100755, size: 3, sha256: 'a'.repeat(64) }] }));
  const sealedManifest = sealManifest(manifestText, id, ck);
  const keys = new Map([[ck.id, key]]);
  const manifestCases: Array<[string, () => unknown, string | null]> = [
    ['the right key and artifact', () => openManifest(sealedManifest, id, keys), null],
    ['a flipped ciphertext byte', () => openManifest(flip(sealedManifest, 40), id, keys), 'decrypt_failed'],
    ['another artifact\'s identity (a manifest moved under another entry)', () => openManifest(sealedManifest, { ...id, pkgid: 2 }, keys), 'decrypt_failed'],
    ['opened as an artifact (the wrong context)', () => openArtifact(sealedManifest, id, keys), 'decrypt_failed'],
    ['an artifact opened as a manifest (the wrong context)', () => openManifest(sealed, id, keys), 'decrypt_failed'],
    ['its header made an artifact\'s (magic MPXA), opened as an artifact', () => openArtifact(Buffer.concat([Buffer.from('MPXA'), sealedManifest.subarray(4)]), id, keys), 'decrypt_failed'],
    ['an artifact\'s header made a manifest\'s (magic MPXM), opened as a manifest', () => openManifest(Buffer.concat([Buffer.from('MPXM'), sealed.subarray(4)]), id, keys), 'decrypt_failed'],
    ['a key the client lacks', () => openManifest(sealedManifest, id, new Map()), 'unknown_key'],
  ];
  for (const [what, fn, code] of manifestCases) {
    it(`manifest open: ${what} → ${code ?? 'decrypted'}`, () => expect(codeOf(fn)).to.equal(code));
  }

  it('a sealed manifest hides the manifest: no path, no digest in clear; it opens to the exact bytes', () => {
    expect(sealedManifest.length).to.equal(manifestText.length + SEALED_OVERHEAD);
    expect(sealedManifest.includes(Buffer.from('hello-secret-name'))).to.equal(false);
    expect(sealedManifest.includes(Buffer.from('a'.repeat(64)))).to.equal(false);
    expect(sealedManifest.subarray(0, 4).toString()).to.equal('MPXM');
    expect(sealedManifest.subarray(5, 13).toString('hex'), 'the content key id in its header').to.equal(ck.id);
    expect(openManifest(sealedManifest, id, keys)).to.deep.equal(manifestText);
  });

  const next = generateKeyPairSync('ed25519');
  const nextId = signingKeyId(next.publicKey);
  const other = generateKeyPairSync('ed25519');
  const rotation = (o: { number?: number; by?: typeof k; claim?: string } = {}) => signRotation({
    number: o.number ?? 1, oldKeyId: o.claim ?? kid, oldPrivateKey: (o.by ?? k).privateKey, newPublicKey: next.publicKey, rotatedAt: now.toISOString(),
  });
  const rotationCases: Array<[string, () => unknown, string | null]> = [
    ['signed by the trusted old key', () => { const r = rotation(); return verifyRotation(r.json, r.sig, 1, trusted); }, null],
    ['fetched as another number', () => { const r = rotation(); return verifyRotation(r.json, r.sig, 2, trusted); }, 'signature_invalid'],
    ['signed by a key not trusted', () => { const r = rotation({ by: other, claim: signingKeyId(other.publicKey) }); return verifyRotation(r.json, r.sig, 1, trusted); }, 'unknown_key'],
    ['claiming the old key, signed by another', () => { const r = rotation({ by: other }); return verifyRotation(r.json, r.sig, 1, trusted); }, 'signature_invalid'],
    ['naming another new key after signing', () => { const r = rotation(); return verifyRotation(r.json.replace(nextId, kid), r.sig, 1, trusted); }, 'signature_invalid'],
    ['not JSON', () => verifyRotation('nope', '{}', 1, trusted), 'signature_invalid'],
  ];
  for (const [what, fn, code] of rotationCases) {
    it(`key rotation statement: ${what} → ${code ?? 'accepted'}`, () => expect(codeOf(fn)).to.equal(code));
  }
  it('a verified rotation statement hands over the new key', () => {
    const r = rotation();
    const v = verifyRotation(r.json, r.sig, 1, trusted);
    expect(v.statement).to.include({ number: 1, old_key_id: kid, new_key_id: nextId });
    expect(signingKeyId(v.newKey)).to.equal(nextId);
    expect(rotation().json).to.equal(r.json);
    expect(rotation().sig, 'deterministic: the publisher can derive the files again').to.equal(r.sig);
  });

  const h = 'a'.repeat(48) + '0123456789ABCDEF';
  const hashReplies: Array<['HASH' | 'XSHA256', string, string | null]> = [
    ['HASH', `213 SHA-256 0-999 ${h} /pub/f`, h.toLowerCase()],
    ['HASH', `213 SHA-256 0-1000 ${h} "/pub/f"`, h.toLowerCase()],
    ['HASH', `213 SHA-1 0-999 ${'b'.repeat(40)} /pub/f`, null],
    ['HASH', `213 SHA-256 0-499 ${h} /pub/f`, null],
    ['XSHA256', `250 ${h}`, h.toLowerCase()],
    ['XSHA256', '250 ok', null],
  ];
  for (const [cmd, reply, want] of hashReplies) {
    it(`FTP ${cmd} reply "${reply.slice(0, 24)}…" of a 1000-byte file → ${want ? 'its sha256' : 'none'}`, () => expect(parseHashReply(cmd, reply, 1000)).to.equal(want));
  }

  it('backs off exponentially up to the maximum', () => {
    const s = { mirror: 'm', uploaded: {}, failures: {}, index: null };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(() => (Date.parse(recordFailure(s, 'x', new Error('e'), now, { base: 30, max: 600 }).next_at) - now.getTime()) / 1000);
    expect(delays).to.deep.equal([30, 60, 120, 240, 480, 600, 600, 600]);
  });

  it('morphux.example.yaml documents every publish default', async () => {
    const example = YAML.parse(await readFile(new URL('../../morphux.example.yaml', import.meta.url), 'utf8'));
    expect(example.publish).to.deep.equal(configSchema.parse({}).publish);
  });
});
