/**
 * Wakes a simulated world when its next event is due, so changes happen (and are pushed or polled)
 * without waiting for a request. One timer at a time, unref'd, re-armed after every change.
 */
import { MAX_TIMER_MS } from "./http-kit.js";
import type { SimulatedTime } from "./simulated-time.js";

export interface TickedWorld {
  /** Simulated ms at which the next event is due, or undefined. */
  nextEventAtMs(): number | undefined;
  /** Runs every event due by simulated `nowMs`. */
  advance(nowMs: number): void;
}

export interface Ticker {
  /** Re-arms the timer after the world changed. */
  changed(): void;
  /** Clears the timer; later changed() calls do nothing. */
  stop(): void;
}

/** `maxDelayMs` caps each wait, for an injected clock that may jump ahead of real time. Default: none. */
export function createTicker(world: TickedWorld, time: SimulatedTime, maxDelayMs?: number): Ticker {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const changed = (): void => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const nextAtMs = world.nextEventAtMs();
    if (nextAtMs === undefined) return;
    const untilDueMs = Math.max(0, Math.ceil(time.realTimeOf(nextAtMs) - time.clock.now()));
    timer = setTimeout(() => {
      timer = undefined;
      world.advance(time.now());
      changed();
    }, Math.min(MAX_TIMER_MS, untilDueMs, maxDelayMs ?? MAX_TIMER_MS));
    timer.unref();
  };
  return {
    changed,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
