// One round for one mirror: upload the key rotation statements, then every built artifact the
// mirror lacks (its sealed manifest, its build's provenance, its signature, then the file, each
// under a temporary name, checked, then renamed), record each success at once, then, only when its
// content changed or it nears expiry and every rotation statement is there, sign and upload an
// index naming just the artifacts confirmed on that mirror (and an artifact's manifest or
// provenance only once that file is confirmed there too). A failure backs off (mirror-state.ts). A mirror published before manifests
// existed, or with manifests in clear, gets sealed ones on its next round (the catalog back-fills
// them); the only files ever deleted are those plain manifests, once the mirror's index is one that
// no longer names them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config-schema.js';
import { MorphuxError } from '../domain/errors.js';
import type { Logger } from '../lib/logger.js';
import { signIndex, INDEX_FORMAT, type IndexEntry, type IndexPayload } from '../domain/signed-index.js';
import { atomicWrite } from '../lib/atomic-write.js';
import type { CatalogEntry } from './build-artifact.js';
import { FtpMirror, type MirrorConfig } from './ftp-mirror.js';
import { isBackingOff, readMirrorState, recordFailure, writeMirrorState, type MirrorState } from './mirror-state.js';
import type { PublishKeys } from './publish-keys.js';
import { isPlainManifestPath, REMOTE_INDEX, remoteFilesOf, remoteJoin, type PublishedFile, type PublishPaths } from './publish-paths.js';

export interface PushMirrorOptions {
  mirror: MirrorConfig;
  settings: Config['publish'];
  paths: PublishPaths;
  entries: CatalogEntry[];
  /** the signed key rotation statements (keys.rotations()): on the mirror before any index */
  rotations: PublishedFile[];
  keys: PublishKeys;
  /** the pkgids a name resolves to (maintainers', admins', stable); all when absent */
  eligible?: (name: string) => Promise<Set<number>>;
  nextSequence: () => Promise<number>;
  /** ignore back-off (an operator's `morphux mirror push`) */
  force: boolean;
  log: Logger;
  now?: () => Date;
}

export interface PushMirrorResult {
  mirror: string;
  uploaded: string[];
  /** the sealed manifests uploaded (an artifact's, before it; or one a mirror published before lacked) */
  manifests: string[];
  /** the builds' provenance files uploaded (an artifact's, before it; or one a mirror published before lacked) */
  provenances: string[];
  /** the manifests in clear (published before they were sealed) removed from the mirror */
  removed: string[];
  /** uploads that went on from a partial file a previous try left, and from which byte */
  resumed: Array<{ path: string; from: number }>;
  failed: Array<{ path: string; error: string }>;
  index: number | null;
  pending: number;
}

const CONNECTION = '(connection)';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const isConnectionLost = (e: unknown) => /closed|ECONNRESET|ECONNREFUSED|EPIPE|timeout|not connected/i.test((e as Error)?.message ?? '');

export async function pushMirror(o: PushMirrorOptions): Promise<PushMirrorResult> {
  const now = o.now ?? (() => new Date());
  const stateFile = o.paths.mirrorState(o.mirror.name);
  const state = await readMirrorState(stateFile, o.mirror.name);
  const result: PushMirrorResult = { mirror: o.mirror.name, uploaded: [], manifests: [], provenances: [], removed: [], resumed: [], failed: [], index: null, pending: 0 };
  const files: Array<PublishedFile & Partial<Pick<CatalogEntry, SidecarField>>> = [...o.rotations, ...o.entries];
  const lacks = (e: PublishedFile & { manifest_path?: string; provenance_path?: string }) => remoteFilesOf(e).filter((p) => !state.uploaded[p]);
  const missing = files.filter((e) => lacks(e).length > 0);
  const todo = missing.filter((e) => o.force || lacks(e).some((p) => !isBackingOff(state, p, now())));
  const fail = async (what: string, e: unknown) => {
    const f = recordFailure(state, what, e, now(), { base: o.settings.retry_base_seconds, max: o.settings.retry_max_seconds });
    await writeMirrorState(stateFile, state);
    result.failed.push({ path: what, error: f.last_error });
    o.log.warn({ mirror: o.mirror.name, path: what, failures: f.count, next_at: f.next_at, err: f.last_error }, 'mirror upload failed');
  };
  const index = await indexFor(o, state, now());
  const retiring = () => retiredOf(o, state).filter((p) => o.force || !isBackingOff(state, p, now()));
  if (todo.length === 0 && !index.due && retiring().length === 0) {
    result.pending = missing.length;
    return result;
  }
  if (!o.force && isBackingOff(state, CONNECTION, now())) {
    result.pending = missing.length;
    return result;
  }
  const ftp = new FtpMirror(o.mirror);
  try {
    await ftp.connect();
  } catch (e) {
    await fail(CONNECTION, e);
    result.pending = missing.length;
    return result;
  }
  try {
    if (state.failures[CONNECTION]) {
      delete state.failures[CONNECTION];
      await writeMirrorState(stateFile, state);
    }
    todo: for (const e of todo) {
      // the manifest and the provenance first (a failure there does not hold the artifact back: the
      // index names an artifact's manifest or provenance only once that is confirmed), then the
      // signature and the artifact
      for (const side of sidecarsOf(e)) {
        if (state.uploaded[side.path] || (!o.force && isBackingOff(state, side.path, now()))) continue;
        try {
          await putSidecar(o, ftp, state, side);
          await writeMirrorState(stateFile, state);
          (side.kind === 'manifest' ? result.manifests : result.provenances).push(side.path);
        } catch (err) {
          await fail(side.path, err);
          if (isConnectionLost(err)) break todo;
        }
      }
      if (state.uploaded[e.path] || (!o.force && isBackingOff(state, e.path, now()))) continue;
      try {
        const sig = await readFile(o.paths.local(e.sig_path));
        await ftp.put(o.paths.local(e.sig_path), remoteJoin(o.mirror.dir, e.sig_path), { size: sig.length, sha256: sha256(sig) });
        const how = await ftp.put(o.paths.local(e.path), remoteJoin(o.mirror.dir, e.path), e);
        state.uploaded[e.path] = { sha256: e.sha256, size: e.size, at: now().toISOString() };
        delete state.failures[e.path];
        await writeMirrorState(stateFile, state);
        result.uploaded.push(e.path);
        if (how.how === 'resumed') result.resumed.push({ path: e.path, from: how.from });
        o.log.info({ mirror: o.mirror.name, path: e.path, how: how.how, from: how.from }, 'artifact on mirror');
      } catch (err) {
        await fail(e.path, err);
        if (isConnectionLost(err)) break;
      }
    }
    const next = await indexFor(o, state, now());
    // a client that trusts only an older key follows the rotation statements: never an index first
    const rotationsThere = o.rotations.every((r) => state.uploaded[r.path]);
    if (next.due && rotationsThere && (o.force || !isBackingOff(state, REMOTE_INDEX, now()))) {
      try {
        result.index = await uploadIndex(o, ftp, state, next.entries, next.digest, now());
        await writeMirrorState(stateFile, state);
      } catch (err) {
        await fail(REMOTE_INDEX, err);
      }
    }
    // the plain manifests go once the index on the mirror is one made now, which names none of them
    if (state.index?.digest === (await indexFor(o, state, now())).digest) {
      for (const rel of retiring()) {
        try {
          await ftp.remove(remoteJoin(o.mirror.dir, rel));
          delete state.uploaded[rel];
          delete state.failures[rel];
          await writeMirrorState(stateFile, state);
          result.removed.push(rel);
          o.log.info({ mirror: o.mirror.name, path: rel }, 'plain manifest removed from mirror');
        } catch (err) {
          await fail(rel, err);
          if (isConnectionLost(err)) break;
        }
      }
    }
  } finally {
    ftp.close();
  }
  result.pending = files.filter((e) => lacks(e).length > 0).length;
  return result;
}

type SidecarField = 'manifest_path' | 'manifest_sealed_size' | 'manifest_sealed_sha256' | 'provenance_path' | 'provenance_size' | 'provenance_sha256';

/** A file that goes up beside an artifact: its sealed manifest, its build's provenance. */
interface Sidecar {
  kind: 'manifest' | 'provenance';
  path: string;
  size?: number;
  sha256?: string;
}

/** An entry's files beside its artifact, in upload order. */
function sidecarsOf(e: Partial<Pick<CatalogEntry, SidecarField>>): Sidecar[] {
  const out: Sidecar[] = [];
  if (e.manifest_path) out.push({ kind: 'manifest', path: e.manifest_path, size: e.manifest_sealed_size, sha256: e.manifest_sealed_sha256 });
  if (e.provenance_path) out.push({ kind: 'provenance', path: e.provenance_path, size: e.provenance_size, sha256: e.provenance_sha256 });
  return out;
}

/**
 * Uploads a file beside an artifact (DATA/publish/artifacts/<rel>) like any file: temporary name,
 * checked, renamed. The local copy is checked first against the catalog's size and sha256 (the
 * ones the index will sign: what mpm checks before it decrypts a manifest or verifies a provenance).
 */
async function putSidecar(o: PushMirrorOptions, ftp: FtpMirror, state: MirrorState, side: Sidecar): Promise<void> {
  const rel = side.path;
  const bytes = await readFile(o.paths.local(rel));
  const sum = sha256(bytes);
  if (sum !== side.sha256 || bytes.length !== side.size) {
    throw new MorphuxError('digest_mismatch', `the local copy of ${rel} has ${bytes.length} bytes, sha256 ${sum}; the catalog says ${side.size}, ${side.sha256}`, { path: rel });
  }
  await ftp.put(o.paths.local(rel), remoteJoin(o.mirror.dir, rel), { size: bytes.length, sha256: sum });
  state.uploaded[rel] = { sha256: sum, size: bytes.length, at: (o.now ?? (() => new Date()))().toISOString() };
  delete state.failures[rel];
  o.log.info({ mirror: o.mirror.name, path: rel }, `${side.kind} on mirror`);
}

/** The manifests in clear this mirror holds that no catalog entry names any more (each was re-published sealed). */
function retiredOf(o: PushMirrorOptions, state: MirrorState): string[] {
  const named = new Set(o.entries.flatMap((e) => (e.manifest_path ? [e.manifest_path] : [])));
  return Object.keys(state.uploaded).filter((rel) => isPlainManifestPath(rel) && !named.has(rel));
}

/** The entries an index of this mirror would name now, its digest, and whether it is due. */
async function indexFor(o: PushMirrorOptions, state: MirrorState, now: Date): Promise<{ entries: IndexEntry[]; digest: string; due: boolean }> {
  const confirmed = o.entries.filter((e) => state.uploaded[e.path]).sort((a, b) => a.pkgid - b.pkgid || a.arch.localeCompare(b.arch));
  const byName = new Map<string, Set<number> | null>();
  for (const e of confirmed) if (!byName.has(e.name)) byName.set(e.name, o.eligible ? await o.eligible(e.name) : null);
  // an artifact's sealed manifest and its provenance are each named (path, size, sha256) only once
  // confirmed there
  const entries: IndexEntry[] = confirmed.map(({ manifest_path, manifest_sealed_size, manifest_sealed_sha256, provenance_path, provenance_size, provenance_sha256, ...e }) => ({
    ...e,
    ...(manifest_path && state.uploaded[manifest_path] ? { manifest_path, manifest_sealed_size, manifest_sealed_sha256 } : {}),
    ...(provenance_path && state.uploaded[provenance_path] ? { provenance_path, provenance_size, provenance_sha256 } : {}),
    eligible: byName.get(e.name)?.has(e.pkgid) ?? true,
  }));
  const digest = createHash('sha256').update(JSON.stringify(entries)).digest('hex');
  const halfLife = (o.settings.index_valid_days * 86_400_000) / 2;
  const due = state.index === null || state.index.digest !== digest || Date.parse(state.index.valid_until) - now.getTime() < halfLife;
  return { entries, digest, due };
}

async function uploadIndex(o: PushMirrorOptions, ftp: FtpMirror, state: MirrorState, entries: IndexEntry[], digest: string, now: Date): Promise<number> {
  const signing = await o.keys.signingKey();
  const sequence = await o.nextSequence();
  const payload: IndexPayload = {
    format: INDEX_FORMAT,
    origin: o.settings.origin,
    sequence,
    generated_at: now.toISOString(),
    valid_until: new Date(now.getTime() + o.settings.index_valid_days * 86_400_000).toISOString(),
    artifacts: entries,
  };
  const text = signIndex(payload, signing.privateKey, signing.id);
  const local = path.join(o.paths.mirrors, `${o.mirror.name}.index.json`);
  await atomicWrite(local, text);
  await ftp.put(local, remoteJoin(o.mirror.dir, REMOTE_INDEX), { size: Buffer.byteLength(text), sha256: sha256(text) }, { replace: true });
  state.index = { sequence, digest, uploaded_at: now.toISOString(), valid_until: payload.valid_until, artifacts: entries.length };
  delete state.failures[REMOTE_INDEX];
  o.log.info({ mirror: o.mirror.name, sequence, artifacts: entries.length }, 'index on mirror');
  return sequence;
}
