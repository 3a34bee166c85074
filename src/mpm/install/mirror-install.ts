// `mpm install --mirror` and `mpm upgrade --mirror`: the plan, manifests and archives from a signed
// mirror instead of the server. The index is fetched and trusted as `mpm get --mirror` does
// (mirror-index.ts: pinned key or its rotation chain, signature, expiry, replay); the plan is
// resolved from it alone (mirror-plan.ts: the one resolution rule); each manifest is the sealed
// file the index names, its size and sha256 the index's, decrypted as that artifact's manifest,
// then its sha256 in clear the index's and its entries checked as a server's (manifest.ts
// manifestOf); each archive is the sealed artifact, its size and sha256 the index's, decrypted,
// its detached signature verified, then decompressed to a plain tar in the download folder
// (outside ROOT). With --require-provenance, each build's provenance is the file the index names
// beside the artifact, its size and sha256 the index's, signed by a trusted key (mirror-index.ts);
// its subjects are compared with the manifest in clear (the plan's manifest.sha256, which the
// opened manifest was checked against) and with the build's archive as the index names it
// (binaries_sha256: the artifact is that archive's tar recompressed, every file of which is then
// checked against the manifest). The replay state moves only once the install succeeded.
// Loaded only when --mirror is given (it starts the codecs).
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import type { FileEntry } from '../db.js';
import { decompress, mirrorSettings, openTrustedMirror, type MirrorFlags, type TrustedMirror } from '../mirror-index.js';
import { mirrorPlan, parseMirrorSpec, type ResolvableEntry } from '../mirror-plan.js';
import { manifestOf, MAX_MANIFEST_BYTES } from './manifest.js';
import type { PackageSource } from './package-source.js';
import type { PlanPackage } from './plan.js';

export async function mirrorPackageSource(flags: MirrorFlags, o: { now?: Date } = {}): Promise<PackageSource> {
  const settings = await mirrorSettings(flags);
  let mirror: TrustedMirror | null = null;
  const entries = new Map<string, ResolvableEntry>();
  // one FTP connection serves one transfer at a time
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const opened = () => {
    if (!mirror) throw new MorphuxError('internal', 'the mirror is read before its plan');
    return mirror;
  };
  const entryOf = (p: PlanPackage) => {
    const e = entries.get(p.name);
    if (!e || e.pkgid !== p.pkgid) throw new MorphuxError('internal', `${p.name} (pkgid ${p.pkgid}) is not in the mirror's plan`);
    return e;
  };
  return {
    spec: parseMirrorSpec,
    plan: async (queries, arch, installed) => {
      mirror ??= await openTrustedMirror({ ...settings, now: o.now });
      const r = await mirrorPlan(mirror.index, queries, arch, installed, mirror.mirror);
      for (const [name, e] of r.entries) entries.set(name, e);
      return r.plan;
    },
    manifest: (p): Promise<FileEntry[]> => serial(async () => manifestOf(await opened().manifest(entryOf(p), MAX_MANIFEST_BYTES), p)),
    archives: (ps, dir) => serial(async () => {
      const files: string[] = [];
      for (const p of ps) {
        const e = entryOf(p);
        const compressed = await opened().artifact(e);
        const file = path.join(dir, `${p.pkgid}.tar`);
        await decompress(compressed, e.compression, file);
        files.push(file);
      }
      return files;
    }),
    provenance: () => ({
      // an entry without a provenance, or from an index signed before provenance was published: none
      verified: (p) => serial(async () => {
        const e = entryOf(p);
        return e.binaries_sha256 ? ((await opened().provenance(e))?.statement ?? null) : null; // e has a manifest_sha256 (resolvable)
      }),
      binariesSha256: (p) => entryOf(p).binaries_sha256 ?? '',
    }),
    succeeded: async () => { await mirror?.remember(); },
    close: () => mirror?.close(),
  };
}
