// Every path of publishing, local and remote, in one place. Local (DATA/publish): keys/ (0700;
// signing/<id>.pem, content/<id>.key, active.json), artifacts/<remote path> (built once),
// catalog.json, sequence, mirrors/<name>.json (the outbox state), publish.lock.
// Remote (a mirror's root): index.json (signed), pool/<letter>/<name>/<file> (+ .sig) and
// keys/rotation-<n>.json (+ .sig); each kept locally as artifacts/<remote path> until uploaded.
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

/** Joins a mirror's root folder and a remote path into an absolute FTP path. */
export function remoteJoin(dir: string, rel: string): string {
  return path.posix.join('/', dir, rel);
}
