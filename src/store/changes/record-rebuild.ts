// Records a step of a good build's rebuild check in its status.json (`builds.<arch>.rebuild`,
// domain/rebuild.ts) and the submission's merged verdict (`reproducible`), one store commit each
// (a group change, like every status change, through update-status.ts, which keeps the index
// entry's rebuild facts). Never touches the build itself: its state, binaries, manifest, provenance.
import type { Arch } from '../../domain/arch.js';
import { MorphuxError } from '../../domain/errors.js';
import { mergeReproducible, type RebuildRecord } from '../../domain/rebuild.js';
import type { ArchBuildStatus, SubmissionStatus } from '../../domain/submission.js';
import type { Store } from '../tree/store.js';
import { updateStatus } from './update-status.js';

export interface RebuildChange {
  message: string;
  /** the configured arches: the verdict is merged over them */
  arches: readonly Arch[];
  /** each arch's new record from its good build's entry and its record so far; throw to refuse */
  change: Partial<Record<Arch, (r: RebuildRecord | undefined, b: ArchBuildStatus) => RebuildRecord>>;
}

export async function recordRebuild(store: Store, pkgid: number, c: RebuildChange): Promise<SubmissionStatus> {
  return updateStatus(store, pkgid, {
    message: c.message,
    actor: 'builder',
    change: (s) => {
      for (const [arch, f] of Object.entries(c.change) as Array<[Arch, NonNullable<RebuildChange['change'][Arch]>]>) {
        const b = s.builds?.[arch];
        if (!b || b.state !== 'good') throw new MorphuxError('not_rebuildable', `pkgid ${pkgid} has no good ${arch} build to check`, { pkgid, arch, state: b?.state ?? s.state });
        s.builds![arch] = { ...b, rebuild: f(b.rebuild, b) };
      }
      s.reproducible = mergeReproducible(s.builds, c.arches);
    },
  });
}
