// A first-come first-served async mutex: the store's writes run one at a time in this process.
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** callers waiting for their turn (a holder that runs long lets them in when there are any) */
  get waiting(): number {
    return this.queued;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const turn = () => {
      this.queued--;
      return fn();
    };
    const result = this.tail.then(turn, turn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
