// Every path of publishing, local and remote, in one place. Local (DATA/publish): keys/ (0700;
// signing/<id>.pem, content/<id>.key, active.json), artifacts/<remote path> (built once),
// catalog.json, sequence, mirrors/<name>.json (the outbox state), publish.lock.
// Remote (a mirror's root): index.json (signed), pool/<letter>/<name>/<file> (+ .sig), each
// artifact's sealed manifest beside it (pool/…/<…>.manifest.json.enc), its build's signed provenance
// in clear (pool/…/<…>.provenance.dsse.json) and keys/rotation-<n>.json (+ .sig);
// each kept locally as artifacts/<remote path>.
import path from 'node:path';
import type { ArtifactIdentity } from '../domain/sealed-artifact.js';

export interface PublishPaths {
  root: string;
  keys: string;
  signingKeys: string;
  contentKeys: string;
  activeKeys: string;
  artifacts: string;
  catalog: string;
  sequence: string;
  mirrors: string;
  mirrorState(name: string): string;
  /** the local copy of a remote file (artifacts/<remote path>) */
  local(rel: string): string;
  /** the lock target (proper-lockfile makes `<this>.lock`) */
  lockTarget: string;
}

export function publishPaths(root: string): PublishPaths {
  const keys = path.join(root, 'keys');
  return {
    root,
    keys,
    signingKeys: path.join(keys, 'signing'),
    contentKeys: path.join(keys, 'content'),
    activeKeys: path.join(keys, 'active.json'),
    artifacts: path.join(root, 'artifacts'),
    catalog: path.join(root, 'catalog.json'),
    sequence: path.join(root, 'sequence'),
    mirrors: path.join(root, 'mirrors'),
    mirrorState: (name) => path.join(root, 'mirrors', `${name}.json`),
    local: (rel) => path.join(root, 'artifacts', ...rel.split('/')),
    lockTarget: path.join(root, 'publish'),
  };
}

export const REMOTE_INDEX = 'index.json';

/** A file the mirrors get once and never again, with its detached signature beside it. */
export interface PublishedFile {
  /** relative to the mirror's root */
  path: string;
  sig_path: string;
  /** of the file at `path` */
  size: number;
  sha256: string;
}

/** keys/rotation-<n>.json: the statement of the n-th key rotation, signed by the key it replaces. */
export const remoteRotationPath = (n: number) => `keys/rotation-${n}.json`;

const EXT = { zstd: 'tar.zst', xz: 'tar.xz' } as const;

/** pool/<letter>/<name>/<name>_<version>_<pkgid>_<arch>.<12 hex of its sha256>.tar.zst.enc: by hash, never reused. */
export function remoteArtifactPath(id: ArtifactIdentity, compression: keyof typeof EXT, sha256: string): string {
  return `pool/${id.name[0]}/${id.name}/${id.name}_${id.version}_${id.pkgid}_${id.arch}.${sha256.slice(0, 12)}.${EXT[compression]}.enc`;
}

/**
 * pool/<letter>/<name>/<name>_<version>_<pkgid>_<arch>.<12 hex of the sealed sha256>.manifest.json.enc:
 * the build's manifest sealed like its artifact, beside it, named by the sealed file's hash like the
 * artifact (never reused).
 */
export function remoteManifestPath(id: ArtifactIdentity, sealedSha256: string): string {
  return `pool/${id.name[0]}/${id.name}/${id.name}_${id.version}_${id.pkgid}_${id.arch}.${sealedSha256.slice(0, 12)}.manifest.json.enc`;
}

/**
 * pool/<letter>/<name>/<name>_<version>_<pkgid>_<arch>.<12 hex of its sha256>.provenance.dsse.json:
 * the build's signed provenance (the DSSE envelope as committed, in clear), beside its artifact,
 * named by its hash like the others.
 */
export function remoteProvenancePath(id: ArtifactIdentity, sha256: string): string {
  return `pool/${id.name[0]}/${id.name}/${id.name}_${id.version}_${id.pkgid}_${id.arch}.${sha256.slice(0, 12)}.provenance.dsse.json`;
}

/** A manifest published in clear (<…>.manifest.json) before manifests were sealed: retired from the mirrors. */
export const isPlainManifestPath = (rel: string) => /^pool\/.+\.manifest\.json$/.test(rel);

/** The remote files one published item puts on a mirror, in upload order, each .sig going up with
 *  its file: a catalog entry's manifest and provenance (when it has them) then its artifact; a
 *  rotation statement. */
export function remoteFilesOf(e: PublishedFile & { manifest_path?: string; provenance_path?: string }): string[] {
  return [e.manifest_path, e.provenance_path, e.path].filter((p): p is string => p !== undefined);
}

/** Joins a mirror's root folder and a remote path into an absolute FTP path. */
export function remoteJoin(dir: string, rel: string): string {
  return path.posix.join('/', dir, rel);
}
