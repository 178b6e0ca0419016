/** Time in the benchmarks. */

/** Resolves after `delayMs` (real time). */
export const pause = (delayMs) => new Promise((resolve) => setTimeout(resolve, delayMs));

/** Epoch milliseconds with sub-millisecond precision: comparable across processes, as the gateway's `at` stamps are. */
export const epochNow = () => performance.timeOrigin + performance.now();
