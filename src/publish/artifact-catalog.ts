// The catalog of built artifacts (DATA/publish/catalog.json): every good submission's binaries,
// compressed, signed and encrypted once, its files under DATA/publish/artifacts/. refresh()
// derives what is missing from the store's HEAD and builds it; a crash before the catalog is
// written only means the artifact is built again (it was never uploaded: uploads read the catalog).
// Each entry carries what a client resolves with offline (dependencies, installed_size,
// manifest_sha256) and the build's manifest itself, sealed like the artifact under the artifact's
// content key (sealManifest) and kept as artifacts/<manifest_path> for the mirrors. Entries built
// before those fields existed get them from HEAD on the next refresh, and so do entries whose
// manifest was published in clear (manifest_path without manifest_sealed_sha256): their manifest
// is sealed, the plain local copy removed (push-mirror.ts removes it from the mirrors). Each entry
// also carries the sha256 of the archive it was made from (binaries_sha256) and, when the build has
// a signed provenance whose subjects are that archive and that manifest, the provenance itself, in
// clear, kept as artifacts/<provenance_path> (withProvenance says why in clear); entries built
// before get both on the next refresh (once: binaries_sha256 is then set).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Arch } from '../domain/arch.js';
import { isMorphuxError } from '../domain/errors.js';
import { summarize } from '../domain/provenance-check.js';
import { readUnverified } from '../domain/provenance-statement.js';
import { sealManifest } from '../domain/sealed-artifact.js';
import { storePaths } from '../store/layout/store-paths.js';
import type { Logger } from '../lib/logger.js';
import { atomicWrite, atomicWriteJson } from '../lib/atomic-write.js';
import { buildArtifact, type CatalogEntry } from './build-artifact.js';
import { listCommittedBinaries, readCommitted, readCommittedManifest, readCommittedProvenance, readCommittedSubmission, readResolutionFacts, type CommittedBinaries } from './committed-binaries.js';
import type { Compression } from './compress-binaries.js';
import type { PublishKeys } from './publish-keys.js';
import { isPlainManifestPath, remoteManifestPath, remoteProvenancePath, type PublishPaths } from './publish-paths.js';

interface CatalogDoc {
  artifacts: CatalogEntry[];
}

const keyOf = (e: { pkgid: number; arch: string }) => `${e.pkgid}/${e.arch}`;

export class ArtifactCatalog {
  constructor(private readonly p: PublishPaths, private readonly storeRoot: string) {}

  async entries(): Promise<CatalogEntry[]> {
    try {
      return (JSON.parse(await readFile(this.p.catalog, 'utf8')) as CatalogDoc).artifacts;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  localFile(rel: string): string {
    return this.p.local(rel);
  }

  /** Good submissions at HEAD whose artifacts are not built yet. */
  async unbuilt(): Promise<CommittedBinaries[]> {
    const have = new Set((await this.entries()).map(keyOf));
    return (await listCommittedBinaries(this.storeRoot)).filter((b) => !have.has(keyOf(b)));
  }

  /** Builds the missing artifacts with the active keys; returns those built. */
  async refresh(keys: PublishKeys, compression: Compression, log: Logger): Promise<CatalogEntry[]> {
    await this.backfill(keys, log);
    const todo = await this.unbuilt();
    if (todo.length === 0) return [];
    const signing = await keys.signingKey();
    const content = await keys.contentKey();
    const entries = await this.entries();
    const built: CatalogEntry[] = [];
    for (const b of todo) {
      const sub = await readCommittedSubmission(this.storeRoot, b.pkgid);
      if (!sub || sub.status.state !== 'good') continue;
      const a = await buildArtifact({
        id: { name: sub.info.name, version: sub.info.version, pkgid: b.pkgid, arch: b.arch },
        archive: await readCommitted(this.storeRoot, b.archive),
        compression, signing, content,
        resolution: await readResolutionFacts(this.storeRoot, b.pkgid, b.arch, sub),
      });
      await mkdir(path.dirname(this.localFile(a.entry.path)), { recursive: true });
      await atomicWrite(this.localFile(a.entry.sig_path), a.sig);
      await atomicWrite(this.localFile(a.entry.path), a.sealed);
      const entry = await this.withProvenance(await this.withManifest(a.entry, keys, log), log);
      entries.push(entry);
      built.push(entry);
      await atomicWriteJson(this.p.catalog, { artifacts: entries } satisfies CatalogDoc);
      log.info({ pkgid: b.pkgid, arch: b.arch, path: a.entry.path, size: a.entry.size }, 'artifact built');
    }
    return built;
  }

  /**
   * Adds the resolution fields to entries built before they existed (once: `dependencies` is then
   * set), a sealed manifest to those without one or with one published in clear (once:
   * `manifest_sealed_sha256` is then set; an entry whose build has no manifest at HEAD has no
   * manifest_sha256 and is left as it is), and binaries_sha256 with the build's provenance to those
   * built before provenance was published (once: `binaries_sha256` is then set). The plain local copies are removed once the catalog no
   * longer names them.
   */
  private async backfill(keys: PublishKeys, log: Logger): Promise<void> {
    const entries = await this.entries();
    let changed = 0;
    const retired: string[] = [];
    for (const [i, e] of entries.entries()) {
      let next = e;
      if (next.dependencies === undefined) {
        const sub = await readCommittedSubmission(this.storeRoot, e.pkgid);
        if (!sub) continue;
        next = { ...next, ...(await readResolutionFacts(this.storeRoot, e.pkgid, e.arch, sub)) };
      }
      if (next.manifest_sealed_sha256 === undefined) next = await this.withManifest(next, keys, log);
      if (next.binaries_sha256 === undefined) {
        const archive = await readCommitted(this.storeRoot, `${storePaths.binaries(e.pkgid, e.arch as Arch)}/files.tar.gz`).catch(() => null);
        if (archive) next = await this.withProvenance({ ...next, binaries_sha256: createHash('sha256').update(archive).digest('hex') }, log);
      }
      if (next === e) continue;
      if (e.manifest_path && e.manifest_path !== next.manifest_path && isPlainManifestPath(e.manifest_path)) retired.push(e.manifest_path);
      entries[i] = next;
      changed++;
    }
    if (changed === 0) return;
    await atomicWriteJson(this.p.catalog, { artifacts: entries } satisfies CatalogDoc);
    for (const rel of retired) await rm(this.localFile(rel), { force: true });
    log.info({ entries: changed, plain_manifests_retired: retired.length }, 'catalog entries given their resolution fields or sealed manifest');
  }

  /**
   * The entry with its manifest sealed and kept locally for the mirrors (artifacts/<manifest_path>,
   * written before the catalog names it): the bytes of binaries/<arch>/manifest.json at HEAD (their
   * sha256 is manifest_sha256), sealed under the artifact's own content key (key_id) and bound to
   * the artifact (sealManifest), with the sealed file's size and sha256. Unchanged when the entry
   * has no manifest_sha256 or HEAD no manifest. An entry whose content key is gone from
   * DATA/publish/keys keeps no manifest (a warning; its artifact cannot be opened either).
   */
  private async withManifest(e: CatalogEntry, keys: PublishKeys, log: Logger): Promise<CatalogEntry> {
    if (e.manifest_sha256 === undefined) return e;
    const bytes = await readCommittedManifest(this.storeRoot, e.pkgid, e.arch);
    if (!bytes) return e;
    let key;
    try {
      key = await keys.contentKey(e.key_id);
    } catch (err) {
      if (!isMorphuxError(err, 'not_found')) throw err;
      log.warn({ pkgid: e.pkgid, arch: e.arch, key_id: e.key_id }, 'the content key of an artifact is missing: its manifest is not published');
      if (e.manifest_path === undefined) return e;
      const rest = { ...e };
      delete rest.manifest_path;
      return rest;
    }
    const sealed = sealManifest(bytes, { name: e.name, version: e.version, pkgid: e.pkgid, arch: e.arch }, key);
    const sealedSha256 = createHash('sha256').update(sealed).digest('hex');
    const rel = remoteManifestPath(e, sealedSha256);
    await mkdir(path.dirname(this.localFile(rel)), { recursive: true });
    await atomicWrite(this.localFile(rel), sealed);
    // a build's manifest never changes once committed; if it ever did, the entry says what is sent
    return {
      ...e,
      manifest_sha256: createHash('sha256').update(bytes).digest('hex'),
      manifest_path: rel,
      manifest_sealed_size: sealed.length,
      manifest_sealed_sha256: sealedSha256,
    };
  }

  /**
   * The entry with its build's signed provenance, kept locally for the mirrors
   * (artifacts/<provenance_path>, written before the catalog names it): the bytes of
   * binaries/<arch>/provenance.dsse.json at HEAD as committed (already signed with the publishing
   * key when the build was recorded; the same file the server serves), named by their sha256. In
   * clear, not sealed: it names no file of the package (the manifest, which does, is sealed), only
   * digests and what the index signs in clear or the server publishes anyway (name, version,
   * pkgid, dependencies, the source's repo and commit, the builder), and so anyone can check it
   * with the public key alone, before holding a content key, with the usual in-toto/SLSA tools.
   * Left without one when HEAD has none (recorded before provenance was), when it is unsigned (the
   * instance had no publishing key: no client accepts it), or when its subjects are not this
   * entry's archive and manifest (a warning: the store does not match itself).
   */
  private async withProvenance(e: CatalogEntry, log: Logger): Promise<CatalogEntry> {
    if (e.provenance_sha256 !== undefined || !e.binaries_sha256 || !e.manifest_sha256) return e;
    const bytes = await readCommittedProvenance(this.storeRoot, e.pkgid, e.arch);
    if (!bytes) return e;
    const { statement, keyIds } = readUnverified(bytes);
    if (!statement || keyIds.length === 0) {
      log.info({ pkgid: e.pkgid, arch: e.arch }, 'the build\'s provenance is unsigned: not published');
      return e;
    }
    const s = summarize(statement);
    if (s.pkgid !== e.pkgid || s.arch !== e.arch || s.binaries_sha256 !== e.binaries_sha256 || s.manifest_sha256 !== e.manifest_sha256) {
      log.warn({ pkgid: e.pkgid, arch: e.arch }, 'the build\'s provenance does not name its committed binaries and manifest: not published');
      return e;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const rel = remoteProvenancePath(e, sha256);
    await mkdir(path.dirname(this.localFile(rel)), { recursive: true });
    await atomicWrite(this.localFile(rel), bytes);
    return { ...e, provenance_path: rel, provenance_size: bytes.length, provenance_sha256: sha256 };
  }
}
