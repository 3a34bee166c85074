// One artifact from one binaries archive: compressed, signed (detached Ed25519 over the
// compressed bytes), encrypted (AES-256-GCM under the active content key), named by its hash; its
// catalog entry carries what a client resolves with offline (ResolutionFacts) when given, and the
// sha256 of the archive it was made from (binaries_sha256: what the build's provenance names).
import { createHash } from 'node:crypto';
import { sealArtifact, signArtifact, type ArtifactIdentity, type ContentKey } from '../domain/sealed-artifact.js';
import type { IndexEntry } from '../domain/signed-index.js';
import type { ResolutionFacts } from './committed-binaries.js';
import { compressBinaries, type Compression } from './compress-binaries.js';
import type { SigningKey } from './publish-keys.js';
import { remoteArtifactPath } from './publish-paths.js';

/** An index entry but for `eligible`, which is decided when an index is made. */
export type CatalogEntry = Omit<IndexEntry, 'eligible'>;

export interface BuiltArtifact {
  entry: CatalogEntry;
  sealed: Buffer;
  sig: string;
}

export async function buildArtifact(o: { id: ArtifactIdentity; archive: Buffer; compression: Compression; signing: SigningKey; content: ContentKey; resolution?: ResolutionFacts }): Promise<BuiltArtifact> {
  const compressed = await compressBinaries(o.archive, o.compression);
  const sig = signArtifact(compressed, o.id, o.signing.privateKey, o.signing.id);
  const sealed = sealArtifact(compressed, o.id, o.content);
  const sha256 = createHash('sha256').update(sealed).digest('hex');
  const rel = remoteArtifactPath(o.id, o.compression, sha256);
  return {
    sealed,
    sig,
    entry: {
      ...o.id,
      path: rel,
      sig_path: `${rel}.sig`,
      size: sealed.length,
      sha256,
      binaries_sha256: createHash('sha256').update(o.archive).digest('hex'),
      key_id: o.content.id,
      signing_key_id: o.signing.id,
      compression: o.compression,
      published_at: new Date().toISOString(),
      ...o.resolution,
    },
  };
}
