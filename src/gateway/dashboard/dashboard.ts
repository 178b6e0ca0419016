/**
 * The dashboard's own state: the last events and the request rate's recent intervals, both bounded.
 * Every other figure is read when a snapshot is asked for, from what the gateway keeps anyway (the
 * room hub, the connections, the metrics registry). The rate is sampled on the gateway's timers, so a
 * fake clock drives it in tests.
 */
import type { Clock } from "../../core/clock.js";
import type { TimerHandle, TimerHeap } from "../../core/timer-heap.js";
import type { RoomChange } from "../room-hub.js";
import { EventLog } from "./event-log.js";
import { RateSeries } from "./rate-series.js";

/** How often the request rate is sampled. */
export const DASHBOARD_SAMPLE_INTERVAL_MS = 1_000;
/** Rate intervals kept: a minute at one a second. */
export const DASHBOARD_RATE_SAMPLES = 60;
/** Events kept. */
export const DASHBOARD_EVENTS = 50;

/** What the rate is sampled from: the upstream's request count and the budget's pause after a 429. */
export interface RateReading {
  readonly requests: number;
  readonly pausedUntil: number;
}

export class Dashboard {
  readonly events = new EventLog(DASHBOARD_EVENTS);
  readonly rate = new RateSeries(DASHBOARD_RATE_SAMPLES);
  readonly #timers: TimerHeap;
  readonly #clock: Clock;
  readonly #read: () => RateReading;
  #timer: TimerHandle | undefined;

  constructor(timers: TimerHeap, clock: Clock, read: () => RateReading) {
    this.#timers = timers;
    this.#clock = clock;
    this.#read = read;
  }

  /** Takes the first sample and samples every DASHBOARD_SAMPLE_INTERVAL_MS until stop(). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#sample();
  }

  /** Idempotent. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  readonly onRoomChange = (change: RoomChange): void => {
    this.events.add({ at: change.at, kind: change.status, roomId: change.roomId, detail: change.detail });
  };

  /** The upstream answered 429: every request waits until `until`. */
  onPaused(roomId: string, until: number, at: number): void {
    this.events.add({ at, kind: "paused", roomId, detail: new Date(until).toISOString() });
  }

  #sample(): void {
    const { requests, pausedUntil } = this.#read();
    this.rate.sample(this.#clock.now(), requests, pausedUntil);
    this.#timer = this.#timers.after(DASHBOARD_SAMPLE_INTERVAL_MS, () => this.#sample());
  }
}
