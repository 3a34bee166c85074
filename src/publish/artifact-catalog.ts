// The catalog of built artifacts (DATA/publish/catalog.json): every good submission's binaries,
// compressed, signed and encrypted once, its files under DATA/publish/artifacts/. refresh()
// derives what is missing from the store's HEAD and builds it; a crash before the catalog is
// written only means the artifact is built again (it was never uploaded: uploads read the catalog).
// Each entry carries what a client resolves with offline (dependencies, installed_size,
// manifest_sha256); entries built before those fields existed get them from HEAD on the next refresh.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../lib/logger.js';
import { atomicWrite, atomicWriteJson } from '../lib/atomic-write.js';
import { buildArtifact, type CatalogEntry } from './build-artifact.js';
import { listCommittedBinaries, readCommitted, readCommittedSubmission, readResolutionFacts, type CommittedBinaries } from './committed-binaries.js';
import type { Compression } from './compress-binaries.js';
import type { PublishKeys } from './publish-keys.js';
import type { PublishPaths } from './publish-paths.js';

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
    await this.backfill(log);
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
      entries.push(a.entry);
      built.push(a.entry);
      await atomicWriteJson(this.p.catalog, { artifacts: entries } satisfies CatalogDoc);
      log.info({ pkgid: b.pkgid, arch: b.arch, path: a.entry.path, size: a.entry.size }, 'artifact built');
    }
    return built;
  }

  /** Adds the resolution fields to entries built before they existed (once: `dependencies` is then set). */
  private async backfill(log: Logger): Promise<void> {
    const entries = await this.entries();
    let changed = 0;
    for (const [i, e] of entries.entries()) {
      if (e.dependencies !== undefined) continue;
      const sub = await readCommittedSubmission(this.storeRoot, e.pkgid);
      if (!sub) continue;
      entries[i] = { ...e, ...(await readResolutionFacts(this.storeRoot, e.pkgid, e.arch, sub)) };
      changed++;
    }
    if (changed === 0) return;
    await atomicWriteJson(this.p.catalog, { artifacts: entries } satisfies CatalogDoc);
    log.info({ entries: changed }, 'catalog entries given their resolution fields');
  }
}
