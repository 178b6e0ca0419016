/**
 * The upstream request rate over the last minute or so, sampled from the request counter the gateway
 * already keeps (CountingSource) and the request budget's pause after a 429 (RequestScheduler): the
 * dashboard counts nothing itself. Pure: the caller samples on its own timer and passes the time.
 */

/** One interval between two samples. */
export interface RateSample {
  /** When the interval ended (clock ms). */
  readonly at: number;
  /** Requests started in the interval. */
  readonly requests: number;
  /** Requests per second over the interval. */
  readonly perSecond: number;
  /** Whether a pause after a 429 covered any of the interval. */
  readonly paused: boolean;
}

export class RateSeries {
  readonly #capacity: number;
  readonly #samples: RateSample[] = [];
  #last: { readonly at: number; readonly requests: number } | undefined;

  /** Keeps the latest `capacity` intervals. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /**
   * Takes the cumulative request count and the pause's end (`pausedUntil`, in the past when not paused)
   * at `at`. The first sample only sets the baseline; a sample no later than the one before is ignored.
   */
  sample(at: number, requests: number, pausedUntil: number): void {
    const last = this.#last;
    if (last !== undefined && at <= last.at) return;
    this.#last = { at, requests };
    if (last === undefined) return;
    const started = Math.max(0, requests - last.requests);
    // The pause only ever moves later, and began at or before `at`: it covered part of the interval
    // exactly when it ends after the interval began.
    this.#samples.push({ at, requests: started, perSecond: (started * 1000) / (at - last.at), paused: pausedUntil > last.at });
    if (this.#samples.length > this.#capacity) this.#samples.shift();
  }

  /** The intervals kept, oldest first. */
  get samples(): readonly RateSample[] {
    return this.#samples;
  }
}
