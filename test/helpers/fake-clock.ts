import FakeTimers from "@sinonjs/fake-timers";
import type { Clock } from "../../src/core/clock.js";

/** A fake clock for the library's Clock seam, plus the controls a test needs. */
export function fakeClock(start = 1_000_000) {
  const fake = FakeTimers.createClock(start);
  const clock: Clock = {
    now: () => fake.now,
    setTimeout: (callback, delayMs) => fake.setTimeout(callback, delayMs),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  };
  return {
    clock,
    fake,
    /** Advances time, letting promise callbacks run between timers. */
    tick: (ms: number) => fake.tickAsync(ms),
    timers: () => fake.countTimers(),
    elapsed: () => fake.now - start,
  };
}
