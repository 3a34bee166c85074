// Where a running build is, for people watching the queue: the phase and a rough percentage,
// reported by the build worker (BuildQueue.progress; BullMQ job progress on Redis). The VM phases
// come from the markers the guest prints on the console (guest-run-script.ts, phase-script.ts).

export type BuildPhase = 'resolving' | 'booting' | 'building' | 'installing' | 'collecting' | 'uploading';

export interface BuildProgress {
  phase: BuildPhase;
  /** 0 to 100, rough: phases are not of equal length */
  percent: number;
  /** e.g. "step 2/5" while building */
  detail?: string;
}

const PERCENT: Record<BuildPhase, number> = { resolving: 5, booting: 15, building: 25, installing: 80, collecting: 90, uploading: 95 };

export function buildProgress(phase: BuildPhase, detail?: string): BuildProgress {
  return detail === undefined ? { phase, percent: PERCENT[phase] } : { phase, percent: PERCENT[phase], detail };
}

const BUILD_STEP = /^==> build step (\d+)\/(\d+):/;
const INSTALL_STEP = /^==> install step \d+\/\d+:/;
const RESULT = /^==> morphux: result written/;

/** Reads a build's console as it streams and says when its phase moves on (a line may span chunks). */
export class LogProgress {
  private partial = '';
  private last = '';

  /** the new progress when this chunk moved it, else null */
  feed(chunk: Buffer): BuildProgress | null {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = (lines.pop() ?? '').slice(-256);
    let next: BuildProgress | null = null;
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      const step = BUILD_STEP.exec(line);
      if (step) {
        const [i, n] = [Number(step[1]), Number(step[2])];
        next = { phase: 'building', percent: Math.round(PERCENT.building + ((PERCENT.installing - PERCENT.building) * (i - 1)) / Math.max(n, 1)), detail: `step ${i}/${n}` };
      } else if (INSTALL_STEP.test(line)) next = buildProgress('installing');
      else if (RESULT.test(line)) next = buildProgress('collecting');
    }
    if (!next) return null;
    const key = `${next.phase} ${next.detail ?? ''}`;
    if (key === this.last) return null;
    this.last = key;
    return next;
  }
}
