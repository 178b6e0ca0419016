/**
 * A rate per key (per client address, say): the request scheduler's GCRA, one theoretical arrival time
 * per key, so that `burst` events may come back to back and then one per `intervalMs`. Keys that have
 * caught up are forgotten, so memory follows the keys over their rate, not every key ever seen.
 */
import type { Clock } from "../core/clock.js";

export class KeyedRate {
  readonly #clock: Pick<Clock, "now">;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  readonly #maxKeys: number;
  readonly #tat = new Map<string, number>();

  /** `perMinute` events a minute per key after a burst of `burst`; at most `maxKeys` keys remembered. */
  constructor(clock: Pick<Clock, "now">, options: { readonly perMinute: number; readonly burst: number; readonly maxKeys?: number | undefined }) {
    this.#clock = clock;
    this.#intervalMs = 60_000 / options.perMinute;
    this.#toleranceMs = (Math.max(1, options.burst) - 1) * this.#intervalMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Whether an event for `key` now would be over the rate (nothing is counted). */
  over(key: string): boolean {
    const tat = this.#tat.get(key);
    return tat !== undefined && this.#clock.now() < tat - this.#toleranceMs;
  }

  /** Counts an event for `key`; false when it is over the rate (it is not counted then). */
  take(key: string): boolean {
    const now = this.#clock.now();
    const tat = this.#tat.get(key) ?? Number.NEGATIVE_INFINITY;
    if (now < tat - this.#toleranceMs) return false;
    if (!this.#tat.has(key) && this.#tat.size >= this.#maxKeys) this.#prune(now);
    // Re-inserted, so the map stays ordered by last event and the oldest go first when pruning.
    this.#tat.delete(key);
    this.#tat.set(key, Math.max(tat, now) + this.#intervalMs);
    return true;
  }

  /** Keys remembered. */
  get size(): number {
    return this.#tat.size;
  }

  #prune(now: number): void {
    for (const [key, tat] of this.#tat) if (tat <= now) this.#tat.delete(key);
    // Still full of keys over their rate: the one idle longest goes.
    if (this.#tat.size >= this.#maxKeys) {
      const oldest = this.#tat.keys().next();
      if (oldest.done !== true) this.#tat.delete(oldest.value);
    }
  }
}
