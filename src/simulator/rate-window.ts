/**
 * A per-second request limit as an API enforces one: at most `perSecond` requests in any sliding
 * second of real time, the rest refused. Pure apart from the clock reading it is given.
 */
export class RateWindow {
  readonly #perSecond: number;
  readonly #times: number[] = [];
  #blockedUntilMs = -Infinity;

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Refuses everything until `untilMs` (a burst of 429s). */
  block(untilMs: number): void {
    this.#blockedUntilMs = Math.max(this.#blockedUntilMs, untilMs);
  }

  /** Counts a request at `nowMs` if the limit allows it; false when it must be refused. */
  admit(nowMs: number): boolean {
    if (nowMs < this.#blockedUntilMs) return false;
    while (this.#times.length > 0 && this.#times[0]! <= nowMs - 1000) this.#times.shift();
    if (this.#times.length >= this.#perSecond) return false;
    this.#times.push(nowMs);
    return true;
  }
}
