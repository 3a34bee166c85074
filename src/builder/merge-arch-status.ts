// A submission's overall status from its per-arch builds (status.json `builds`): failed as soon as
// one configured arch failed (its reason, the arch named in the message), good only when every
// configured arch is good, else building or queued; `build` mirrors the first configured arch;
// `reproducible` is the arches' rebuild checks merged (domain/rebuild.ts).
import type { Arch } from '../domain/arch.js';
import type { ArchBuildStatus, SubmissionStatus } from '../domain/submission.js';
import { mergeReproducible } from '../domain/rebuild.js';

export function mergeArchStatus(status: SubmissionStatus, arches: readonly Arch[]): void {
  const builds = status.builds ?? {};
  const of = (a: Arch): ArchBuildStatus | undefined => builds[a];
  const failed = arches.find((a) => of(a)?.state === 'failed');
  const many = arches.length > 1;
  if (failed) {
    const b = of(failed)!;
    status.state = 'failed';
    status.reason = b.reason;
    status.message = many ? `${failed}: ${b.message ?? 'failed'}` : b.message;
  } else if (arches.every((a) => of(a)?.state === 'good')) {
    status.state = 'good';
    status.reason = null;
    status.message = of(arches[0])!.message;
  } else {
    status.state = arches.some((a) => of(a)?.state === 'building') ? 'building' : 'queued';
    status.reason = null;
    const waiting = arches.find((a) => of(a)?.message && of(a)?.state !== 'good');
    status.message = waiting ? `${many ? `${waiting}: ` : ''}${of(waiting)!.message}` : null;
  }
  status.build = of(arches[0])?.build ?? null;
  status.reproducible = mergeReproducible(builds, arches);
}
