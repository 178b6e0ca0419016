/**
 * Simulated time: real time (from an injectable clock) since start, sped up by `timeScale`, so tests can
 * drive the world with a hand-advanced clock and demos can make a 5 s cold start take 50 ms.
 */
import type { Clock } from "../core/clock.js";
import { ConfigError } from "../core/errors.js";

/** The part of the library's Clock the simulator reads: real time in ms, of which only differences matter. */
export type NowClock = Pick<Clock, "now">;

export const performanceClock: NowClock = { now: () => performance.now() };

export interface SimulatedTime {
  readonly clock: NowClock;
  readonly timeScale: number;
  /** Simulated ms since start: `(clock.now() - startedAt) * timeScale`. */
  now(): number;
  /** The clock reading at which simulated time reaches `simulatedMs`. */
  realTimeOf(simulatedMs: number): number;
}

export function createSimulatedTime(clock: NowClock, timeScale: number): SimulatedTime {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new ConfigError("timeScale must be a positive number");
  const startedAt = clock.now();
  return {
    clock,
    timeScale,
    now: () => (clock.now() - startedAt) * timeScale,
    realTimeOf: (simulatedMs) => startedAt + simulatedMs / timeScale,
  };
}
