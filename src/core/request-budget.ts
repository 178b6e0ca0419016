/**
 * How many requests may be in flight at once, shared by every room of a fleet. Waiters are served
 * first come, first served, so a new room is never starved by old ones.
 */
export class RequestBudget {
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #queue: Array<() => void> = [];

  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Runs `task` once a slot is free; rejects with `signal.reason` if aborted while waiting. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#inFlight < this.#maxInFlight) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        this.#inFlight++;
        resolve();
      };
      const onAbort = (): void => {
        const index = this.#queue.indexOf(grant);
        if (index !== -1) this.#queue.splice(index, 1);
        reject(signal?.reason as Error);
      };
      this.#queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    this.#inFlight--;
    this.#queue.shift()?.();
  }
}
