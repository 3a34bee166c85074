// How many git-http-backend processes run at once (server.git_backends_max): each clone or push is
// a process tree of 20 MB or more (http-backend, upload-pack, pack-objects), so beyond the limit
// requests wait in arrival order, and beyond server.git_queue_max waiting ones are turned away
// (the git handler answers 503) rather than let the machine's memory grow with the crowd.

/** Frees the slot; calling it again does nothing. */
export type Release = () => void;

export class BackendLimiter {
  private running = 0;
  private readonly waiting = new Set<(release: Release) => void>(); // a Set keeps insertion order

  constructor(readonly max: number, readonly queueMax: number) {
    if (!(Number.isInteger(max) && max >= 1 && Number.isInteger(queueMax) && queueMax >= 0)) {
      throw new RangeError(`BackendLimiter(${max}, ${queueMax}): max ≥ 1 and queueMax ≥ 0, integers`);
    }
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** A slot at once or in turn; 'full' when the queue is; 'gone' when `signal` aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<Release | 'full' | 'gone'> {
    if (signal?.aborted) return Promise.resolve('gone');
    if (this.running < this.max) return Promise.resolve(this.take());
    if (this.waiting.size >= this.queueMax) return Promise.resolve('full');
    return new Promise((resolve) => {
      const grant = (release: Release) => {
        signal?.removeEventListener('abort', leave);
        resolve(release);
      };
      const leave = () => {
        this.waiting.delete(grant);
        resolve('gone');
      };
      this.waiting.add(grant);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }

  private take(): Release {
    this.running++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      const next = this.waiting.values().next();
      if (!next.done) {
        this.waiting.delete(next.value);
        next.value(this.take());
      }
    };
  }
}
