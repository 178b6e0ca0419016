/**
 * A fleet watches any number of rooms on one timer heap and one request budget (requests in flight,
 * requests per second, a pause after a 429), within which a source may hold its looks to its upstream's
 * own limit (its `budget`: Edgegap's 20 status requests/s per organisation). Every watch of the same
 * room through the same upstream shares one feed, however many callers ask; each caller holds its own
 * RoomWatcher and disposes of it alone. The fleet learns how long rooms take to start and times its looks by it, and
 * when one room on a process turns active or moves, it looks at the process's other rooms at once.
 * A single RoomWatcher is a fleet of one: it runs on this same code.
 */
import { EventEmitter } from "eventemitter3";
import { ActivationModel } from "../core/activation-model.js";
import { EvidenceLog } from "../core/evidence.js";
import { type Clock, systemClock } from "../core/clock.js";
import { defaultBurst, RequestScheduler } from "../core/request-scheduler.js";
import { initialState } from "../core/room-state.js";
import { safeEmit } from "../core/safe-emit.js";
import { TimerHeap } from "../core/timer-heap.js";
import { ConfigError, type RateLimitedError } from "../core/errors.js";
import type { HathoraSourceOptions } from "../providers/hathora/http-source.js";
import { isPushSource, type PollingSource, type RoomSource, type SourceListener } from "../core/source.js";
import { validateRoomId } from "../core/validate.js";
import type { RoomWatcherEvents } from "./events.js";
import { DEFAULT_NOT_FOUND_GRACE_MS, type PollOptions, type ResolvedPollOptions } from "./options.js";
import { PushFeed } from "./push-feed.js";
import type { RoomFeed } from "./room-feed.js";
import { type PollContext, RoomPoll, type RoomPollPlacement } from "./room-poll.js";
import { RoomView } from "./room-view.js";
import { sourceFromOptions } from "./source-options.js";

export const DEFAULT_MAX_IN_FLIGHT = 64;
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 100;

export interface FleetOptions extends PollOptions, Partial<Omit<HathoraSourceOptions, "clock">> {
  /** Time source. Default the system clock (fake-timer friendly). */
  clock?: Clock | undefined;
  /** Uniform random numbers in [0, 1) for jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Requests in flight at once across every room of the fleet. Default 64. */
  maxInFlight?: number | undefined;
  /** Requests started per second across every room; `Infinity` for no limit. A source with a `budget` of its own is held to both. Default 100. */
  maxRequestsPerSecond?: number | undefined;
  /** Requests that may start back to back after a quiet spell. Default 1/20 of the rate per second (at least 1). */
  burst?: number | undefined;
  /** The share of the budget (in flight and rate) for looks at rooms never seen, asked for by a named tenant (the gateway's connections). Default 1/2. */
  unseenShare?: number | undefined;
  /** Learn the time to active from what the fleet sees and time looks by it. Default true. */
  learn?: boolean | undefined;
  /**
   * The learned schedule: `optimal` places the looks a room's budget allows (`pollBudgetIntervalMs`)
   * where they cut the mean detection delay most; `legacy` is the square-root rule (`delayPerLookMs`)
   * of earlier versions. Default `optimal`.
   */
  schedule?: "optimal" | "legacy" | undefined;
  /** Where the watchers and waits given this fleet look unless told otherwise. Default: the Hathora HTTP API from appId, baseUrl, token... */
  source?: RoomSource | undefined;
  /** A 404 this soon after a room's first look means "not there yet" (the fleet's own view; watchers have theirs). Default 5,000 ms. */
  notFoundGraceMs?: number | undefined;
}

/** An upstream is paused after a 429: every look within the same budget waits. */
export interface PausedEvent {
  /** The room whose request was refused. */
  readonly roomId: string;
  /** The key of the budget paused (the refused source's own); undefined for the fleet's own, that of every source declaring none. */
  readonly budget: string | undefined;
  /** No request starts before this (epoch ms). */
  readonly until: number;
  readonly error: RateLimitedError;
  readonly at: number;
}

export interface FleetEvents extends RoomWatcherEvents {
  paused: [event: PausedEvent];
}

export interface FleetStats {
  /** Rooms with a live feed. */
  readonly rooms: number;
  readonly inFlight: number;
  /** Rooms due for a look and waiting for the budget. */
  readonly queued: number;
  /** Requests started since the fleet was made. */
  readonly requests: number;
  /** Time-to-active samples learned. */
  readonly samples: number;
}

/** A listener's hold on a room's feed. */
export interface Subscription {
  /** Leaves the feed; the last one out stops it. Resolves once the feed, if stopped, has ended. */
  unsubscribe(): Promise<void>;
}

export class Fleet extends EventEmitter<FleetEvents> {
  /** The fleet's time source; watchers and the gateway schedule on it. @internal */
  readonly clock: Clock;
  /** Every timer of every room watched through the fleet. @internal */
  readonly timers: TimerHeap;
  /** The request budget every look waits its turn in. @internal */
  readonly scheduler: RequestScheduler;
  /** A 404 this soon after a room's first look means "not there yet" (the default of its watchers too). */
  readonly notFoundGraceMs: number;
  readonly #options: FleetOptions;
  readonly #context: PollContext;
  readonly #feeds = new Map<string, RoomFeed>();
  readonly #models = new Map<string, ActivationModel>();
  readonly #learn: boolean;
  /** Rooms by the process they were placed on. */
  readonly #siblings = new Map<string, Set<RoomPoll>>();
  #source: RoomSource | undefined;

  constructor(options: FleetOptions = {}) {
    super();
    this.#options = options;
    this.clock = options.clock ?? systemClock;
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new ConfigError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    }
    const maxRequestsPerSecond = options.maxRequestsPerSecond ?? DEFAULT_MAX_REQUESTS_PER_SECOND;
    if (!(maxRequestsPerSecond > 0)) throw new ConfigError(`maxRequestsPerSecond must be positive, got ${maxRequestsPerSecond}`);
    const burst = options.burst ?? defaultBurst(maxRequestsPerSecond);
    if (!Number.isFinite(burst) || burst < 1) throw new ConfigError(`burst must be at least 1, got ${burst}`);
    this.notFoundGraceMs = options.notFoundGraceMs ?? DEFAULT_NOT_FOUND_GRACE_MS;
    this.#learn = options.learn ?? true;
    this.timers = new TimerHeap(this.clock);
    this.scheduler = new RequestScheduler(this.clock, this.timers, { maxInFlight, maxRequestsPerSecond, burst, unseenShare: options.unseenShare });
    const random = options.random ?? Math.random;
    const schedule = options.schedule ?? "optimal";
    if (schedule !== "optimal" && schedule !== "legacy") throw new ConfigError(`schedule must be "optimal" or "legacy", got ${String(schedule)}`);
    this.#context = {
      schedule,
      clock: this.clock,
      timers: this.timers,
      scheduler: this.scheduler,
      random,
      modelFor: (source) => this.#modelFor(source),
      changed: (poll, change) => this.#siblingChanged(poll, change),
      paused: (poll, budget, until, error) => safeEmit(this, "paused", Object.freeze({ roomId: poll.roomId, budget, until, error, at: this.clock.now() } satisfies PausedEvent)),
    };
  }

  /** Rooms being watched now. */
  get size(): number {
    return this.#feeds.size;
  }

  get stats(): FleetStats {
    let samples = 0;
    for (const model of this.#models.values()) samples += model.samples;
    return { rooms: this.#feeds.size, inFlight: this.scheduler.inFlight, queued: this.scheduler.waiting, requests: this.scheduler.started, samples };
  }

  /** What the fleet has learned of rooms on `source` (default: the fleet's own source). @internal */
  activationModel(source: RoomSource = this.#defaultSource()): ActivationModel | undefined {
    return isPushSource(source) ? undefined : this.#models.get(source.key);
  }

  /** Requests sent so far for a room's current feed (0 if it is not watched). @internal */
  requestsFor(source: RoomSource, roomId: string): number {
    return this.#feeds.get(keyOf(source, roomId))?.requests ?? 0;
  }

  /**
   * Looks at a watched room soon, ahead of its schedule (a readiness hint, say), within the budget and
   * never sooner than the floor after its last look. False when the room is not watched by polling.
   * @internal
   */
  prompt(roomId: string, source: RoomSource = this.#defaultSource()): boolean {
    return this.bringForward(roomId, source) !== undefined;
  }

  /**
   * `prompt`, and never sooner than `minGapMs` after the room's last prompted look. True when that
   * brought a look forward, false when one was due as soon anyway; undefined when the room is not
   * watched by polling.
   * @internal
   */
  bringForward(roomId: string, source: RoomSource = this.#defaultSource(), minGapMs = 0): boolean | undefined {
    const feed = this.#feeds.get(keyOf(source, roomId));
    if (!(feed instanceof RoomPoll)) return undefined;
    return feed.prompt(minGapMs);
  }

  /** Joins (or starts) the one feed of `roomId` on `source`: a poll loop, or a push subscription. @internal */
  subscribe(source: RoomSource, roomId: string, options: ResolvedPollOptions, listener: SourceListener, placement: RoomPollPlacement = {}): Subscription {
    validateRoomId(roomId);
    source.checkRoomId?.(roomId);
    const key = keyOf(source, roomId);
    let feed = this.#feeds.get(key);
    if (feed === undefined || feed.stopped) {
      // The fleet's own view of the room: the state machine a watcher runs, without a deadline or a
      // signal, so that fleet-wide events come once per room however many watch it.
      const view = new RoomView({
        roomId,
        state: initialState(this.clock.now(), this.notFoundGraceMs),
        emitter: this,
        evidence: new EvidenceLog(source.target?.(roomId)),
      });
      const created: RoomFeed = isPushSource(source)
        ? new PushFeed(source, roomId, view)
        : new RoomPoll(this.#context, source, roomId, options, placement, view);
      feed = created;
      this.#feeds.set(key, created);
      if (created instanceof RoomPoll && placement.processId !== undefined) this.#addSibling(created, placement.processId);
      created.onEnded(this.#forget);
    } else if (feed instanceof RoomPoll && feed.processId === undefined && placement.processId !== undefined) {
      feed.place(placement.processId);
      this.#addSibling(feed, placement.processId);
    }
    feed.add(listener);
    return new FeedSubscription(feed, listener);
  }

  /**
   * Stops every feed and resolves once they have ended. Every watcher on the fleet ends as `stopped`
   * (a pending waitForActive rejects with RoomTerminatedError, reason stopped) and keeps no timer.
   */
  async close(): Promise<void> {
    const feeds = [...this.#feeds.values()];
    const at = this.clock.now();
    for (const feed of feeds) feed.close(at);
    await Promise.all(feeds.map((f) => f.done));
    this.scheduler.clear();
  }

  /**
   * The source a watch through this fleet uses when it names none: the fleet's `source`, or the Hathora
   * HTTP API from its appId, baseUrl, token...; undefined when the fleet has neither.
   * @internal
   */
  get defaultSource(): RoomSource | undefined {
    this.#source ??= sourceFromOptions(this.#options);
    return this.#source;
  }

  /** The poll options a watch through this fleet takes unless it sets its own (the fleet's options). @internal */
  get pollDefaults(): PollOptions {
    return this.#options;
  }

  #defaultSource(): RoomSource {
    const source = this.defaultSource;
    if (source === undefined) throw new ConfigError("this fleet has no default source (no source or appId in its options): name the source");
    return source;
  }

  #modelFor(source: PollingSource): ActivationModel | undefined {
    if (!this.#learn) return undefined;
    let model = this.#models.get(source.key);
    if (model === undefined) {
      model = new ActivationModel();
      this.#models.set(source.key, model);
    }
    return model;
  }

  #addSibling(poll: RoomPoll, processId: string): void {
    let rooms = this.#siblings.get(processId);
    if (rooms === undefined) {
      rooms = new Set();
      this.#siblings.set(processId, rooms);
    }
    rooms.add(poll);
  }

  #removeSibling(poll: RoomPoll, processId: string | undefined): void {
    if (processId === undefined) return;
    const rooms = this.#siblings.get(processId);
    rooms?.delete(poll);
    if (rooms?.size === 0) this.#siblings.delete(processId);
  }

  /** One room on a process changed: the others there probably did too, so look now rather than on schedule. */
  #siblingChanged(poll: RoomPoll, change: "became-active" | "moved"): void {
    const processId = poll.processId;
    if (processId === undefined) return;
    for (const sibling of this.#siblings.get(processId) ?? []) {
      if (sibling === poll) continue;
      // A process that binds its port serves all its rooms: wake those still starting. One that died
      // moved all its rooms: look at every one.
      if (change === "moved" || sibling.status !== "active") sibling.prompt();
    }
    if (change === "moved") this.#removeSibling(poll, processId);
  }

  // One function for every feed: a closure per room would cost memory at 100,000 rooms.
  readonly #forget = (feed: RoomFeed): void => {
    const key = keyOf(feed.source, feed.roomId);
    if (this.#feeds.get(key) === feed) this.#feeds.delete(key);
    if (feed instanceof RoomPoll) this.#removeSibling(feed, feed.processId);
  };
}

class FeedSubscription implements Subscription {
  readonly #feed: RoomFeed;
  #listener: SourceListener | undefined;

  constructor(feed: RoomFeed, listener: SourceListener) {
    this.#feed = feed;
    this.#listener = listener;
  }

  async unsubscribe(): Promise<void> {
    if (this.#listener !== undefined) {
      this.#feed.remove(this.#listener);
      this.#listener = undefined;
    }
    if (this.#feed.listenerCount === 0) await this.#feed.done;
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
