/**
 * A fleet watches any number of rooms on one timer heap and one request budget. Every watch of
 * the same room through the same upstream shares one poll loop. A single RoomWatcher is a fleet
 * of one: it runs on this same code.
 */
import { type Clock, systemClock } from "../core/clock.js";
import { RequestBudget } from "../core/request-budget.js";
import { TimerHeap } from "../core/timer-heap.js";
import { isPushSource, type RoomSource, type SourceListener } from "../sources/source.js";
import { validateRoomId } from "../sources/validate.js";
import { ConfigError } from "../errors.js";
import type { ResolvedPollOptions } from "./options.js";
import { PushFeed, type RoomFeed } from "./room-feed.js";
import { type PollContext, RoomPoll } from "./room-poll.js";

export const DEFAULT_MAX_IN_FLIGHT = 64;

export interface FleetOptions {
  /** Time source. Default the system clock (fake-timer friendly). */
  clock?: Clock | undefined;
  /** Uniform random numbers in [0, 1) for jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Requests in flight at once across every room of the fleet. Default 64. */
  maxInFlight?: number | undefined;
}

/** A listener's hold on a room's poll loop. */
export interface Subscription {
  /** Leaves the loop; the last one out stops it. Resolves once the loop, if stopped, has ended. */
  unsubscribe(): Promise<void>;
}

export class Fleet {
  readonly clock: Clock;
  readonly timers: TimerHeap;
  readonly budget: RequestBudget;
  readonly #context: PollContext;
  readonly #feeds = new Map<string, RoomFeed>();

  constructor(options: FleetOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new ConfigError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    }
    this.timers = new TimerHeap(this.clock);
    this.budget = new RequestBudget(maxInFlight);
    this.#context = { clock: this.clock, timers: this.timers, budget: this.budget, random: options.random ?? Math.random };
  }

  /** Rooms being watched now. */
  get size(): number {
    return this.#feeds.size;
  }

  /** Requests sent so far for a room's current poll loop (0 if it is not watched). */
  requestsFor(source: RoomSource, roomId: string): number {
    return this.#feeds.get(keyOf(source, roomId))?.requests ?? 0;
  }

  /** Joins (or starts) the one feed of `roomId` on `source`: a poll loop, or a push subscription. */
  subscribe(source: RoomSource, roomId: string, options: ResolvedPollOptions, listener: SourceListener): Subscription {
    validateRoomId(roomId);
    const key = keyOf(source, roomId);
    let feed = this.#feeds.get(key);
    if (feed === undefined || feed.stopped) {
      const created: RoomFeed = isPushSource(source)
        ? new PushFeed(source, roomId)
        : new RoomPoll(this.#context, source, roomId, options);
      feed = created;
      this.#feeds.set(key, created);
      void created.done.then(() => {
        if (this.#feeds.get(key) === created) this.#feeds.delete(key);
      });
    }
    const joined = feed;
    joined.add(listener);
    let left = false;
    return {
      unsubscribe: async () => {
        if (!left) {
          left = true;
          joined.remove(listener);
        }
        if (joined.listenerCount === 0) await joined.done;
      },
    };
  }

  /** Stops every poll loop and resolves once they have ended. Listeners hear nothing more. */
  async close(): Promise<void> {
    const feeds = [...this.#feeds.values()];
    for (const feed of feeds) feed.stop();
    await Promise.all(feeds.map((f) => f.done));
  }
}

function keyOf(source: RoomSource, roomId: string): string {
  return `${source.key}\u0000${roomId}`;
}

let defaultFleet: Fleet | undefined;

/** The process-wide fleet that RoomWatcher and waitForActive use unless given another. */
export function getDefaultFleet(): Fleet {
  defaultFleet ??= new Fleet();
  return defaultFleet;
}
