/**
 * Simulated time: real time (from an injectable clock) since start, sped up by `timeScale`, so tests can
 * drive the world with a hand-advanced clock and demos can make a 5 s cold start take 50 ms.
 */
import { ConfigError } from "../core/errors.js";

/** A source of real time in ms; only differences matter. */
export interface Clock {
  now(): number;
}

export const performanceClock: Clock = { now: () => performance.now() };

export interface SimulatedTime {
  readonly clock: Clock;
  readonly timeScale: number;
  /** Simulated ms since start: `(clock.now() - startedAt) * timeScale`. */
  now(): number;
  /** The clock reading at which simulated time reaches `simulatedMs`. */
  realTimeOf(simulatedMs: number): number;
}

export function createSimulatedTime(clock: Clock, timeScale: number): SimulatedTime {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new ConfigError("timeScale must be a positive number");
  const startedAt = clock.now();
  return {
    clock,
    timeScale,
    now: () => (clock.now() - startedAt) * timeScale,
    realTimeOf: (simulatedMs) => startedAt + simulatedMs / timeScale,
  };
}
