/**
 * The room hub: one upstream watch per room (a fleet subscription, so the fleet's scheduling, retries
 * and request budget apply), fanned out to every subscriber. Each room runs the pure state machine
 * to know when it has ended; each change of observation goes out once, encoded once, with the room's
 * next sequence number. After its terminal event the room is dropped.
 */
import { type PollResult, type Observation, sameConnection } from "../core/observation.js";
import { initialState, isTerminal, type RoomState, transition } from "../core/room-state.js";
import { RoomWatcherError } from "../errors.js";
import type { SourceListener, TransientFailure } from "../sources/source.js";
import type { Fleet, Subscription } from "../watch/fleet.js";
import type { ResolvedPollOptions } from "../watch/options.js";
import type { GatewayLogger } from "./logging.js";
import type { GatewayMetrics } from "./metrics.js";
import { type EndedMessage, encodeServerMessage, type ServerMessage, toWireResult, type WireError } from "./protocol.js";
import type { CountingSource } from "./upstream.js";

/** Whoever receives a room's messages: a connection, in practice. */
export interface Subscriber {
  /**
   * Sends one encoded message. `learnedAtHr` (performance.now()) is when the gateway learned what it
   * says, for the push latency histogram; undefined for replies that carry no news.
   */
  send(text: string, type: ServerMessage["type"], learnedAtHr: number | undefined): void;
}

export interface RoomHubOptions {
  readonly fleet: Fleet;
  readonly source: CountingSource;
  readonly pollOptions: ResolvedPollOptions;
  readonly notFoundGraceMs: number;
  readonly metrics: GatewayMetrics;
  readonly logger: GatewayLogger;
}

export type HintOutcome = "accepted" | "unknown_room";

interface Room {
  readonly roomId: string;
  readonly subscribers: Set<Subscriber>;
  seq: number;
  state: RoomState;
  last: { readonly result: PollResult; readonly at: number } | undefined;
  subscription: Subscription | undefined;
  ended: boolean;
  /** The encoded `ended` message, once the room has ended. */
  endedText: string | undefined;
}

export class RoomHub {
  readonly #options: RoomHubOptions;
  readonly #rooms = new Map<string, Room>();
  readonly #bySubscriber = new Map<Subscriber, Set<string>>();
  /** Unsubscriptions under way, so close() can wait for them. */
  readonly #pending = new Set<Promise<void>>();
  readonly #controller = new AbortController();
  #subscriptions = 0;

  constructor(options: RoomHubOptions) {
    this.#options = options;
  }

  /** Rooms watched upstream now. */
  get rooms(): number {
    return this.#rooms.size;
  }

  /** Subscriptions across all subscribers. */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  /** Rooms `subscriber` is subscribed to. */
  countOf(subscriber: Subscriber): number {
    return this.#bySubscriber.get(subscriber)?.size ?? 0;
  }

  isSubscribed(subscriber: Subscriber, roomId: string): boolean {
    return this.#bySubscriber.get(subscriber)?.has(roomId) ?? false;
  }

  /**
   * Subscribes (or, when already subscribed, resyncs): either way the subscriber gets the room's
   * snapshot at once, then every change. The caller validated `roomId` and the limits.
   */
  subscribe(subscriber: Subscriber, roomId: string): void {
    if (this.#controller.signal.aborted) return;
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      room = this.#open(roomId);
      if (room.ended) {
        // The fleet replayed a terminal answer while we joined: say so, and keep nothing.
        subscriber.send(this.#snapshotOf(room), "snapshot", undefined);
        if (room.endedText !== undefined) subscriber.send(room.endedText, "ended", undefined);
        return;
      }
    }
    if (!room.subscribers.has(subscriber)) {
      room.subscribers.add(subscriber);
      let rooms = this.#bySubscriber.get(subscriber);
      if (rooms === undefined) this.#bySubscriber.set(subscriber, (rooms = new Set()));
      rooms.add(roomId);
      this.#subscriptions++;
    }
    subscriber.send(this.#snapshotOf(room), "snapshot", undefined);
  }

  unsubscribe(subscriber: Subscriber, roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined || !room.subscribers.delete(subscriber)) return;
    this.#subscriptions--;
    this.#bySubscriber.get(subscriber)?.delete(roomId);
    if (room.subscribers.size === 0) this.#drop(room);
  }

  /** Forgets a subscriber that went away, leaving every room it was subscribed to. */
  removeSubscriber(subscriber: Subscriber): void {
    const rooms = this.#bySubscriber.get(subscriber);
    if (rooms === undefined) return;
    for (const roomId of [...rooms]) this.unsubscribe(subscriber, roomId);
    this.#bySubscriber.delete(subscriber);
  }

  /**
   * A game server says the room is ready: the room's poll loop looks again at once, within the fleet's
   * request budget and never closer to its last look than the floor (`minPollIntervalMs`). The answer
   * is treated like any poll's: the hint itself never changes state. Unknown (unwatched) rooms are refused.
   */
  hint(roomId: string): HintOutcome {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.ended || this.#controller.signal.aborted) return "unknown_room";
    return this.#options.fleet.prompt(roomId, this.#options.source) ? "accepted" : "unknown_room";
  }

  /** Stops every upstream watch; resolves once nothing is left running. */
  async close(): Promise<void> {
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("gateway closing"));
    for (const room of [...this.#rooms.values()]) {
      room.ended = true;
      this.#drop(room);
    }
    this.#bySubscriber.clear();
    this.#subscriptions = 0;
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #open(roomId: string): Room {
    const { fleet, source, pollOptions, notFoundGraceMs, logger } = this.#options;
    const room: Room = {
      roomId,
      subscribers: new Set(),
      seq: 0,
      state: initialState(fleet.clock.now(), notFoundGraceMs),
      last: undefined,
      subscription: undefined,
      ended: false,
      endedText: undefined,
    };
    this.#rooms.set(roomId, room);
    const listener: SourceListener = {
      onResult: (result, at) => this.#onResult(room, result, at),
      onTransientFailure: (failure) => this.#onTransientFailure(room, failure),
      onFatal: (error, at) => this.#onFatal(room, error, at),
    };
    room.subscription = fleet.subscribe(source, roomId, pollOptions, listener);
    // A terminal answer replayed during subscribe ended the room before it had a subscription to drop.
    if (room.ended) this.#release(room);
    logger.debug({ roomId }, "watching room upstream");
    return room;
  }

  #onResult(room: Room, result: PollResult, at: number): void {
    if (room.ended) return;
    const learnedAtHr = performance.now();
    const previous = room.last;
    room.last = { result, at };
    const { state } = transition(room.state, { type: "observed", at, observation: result.observation });
    room.state = state;
    if (previous === undefined || !sameObservation(previous.result.observation, result.observation)) {
      room.seq++;
      this.#broadcast(room, { type: "update", roomId: room.roomId, seq: room.seq, result: toWireResult(result), at }, learnedAtHr);
    }
    if (isTerminal(state)) {
      const reason = state.reason === "destroyed" || state.reason === "suspended" || state.reason === "not_found" ? state.reason : "failed";
      this.#end(room, reason, undefined, at, learnedAtHr);
    }
  }

  #onTransientFailure(room: Room, failure: TransientFailure): void {
    if (room.ended) return;
    const { error, attempt, nextDelayMs, at } = failure;
    this.#broadcast(room, { type: "failure", roomId: room.roomId, error: wireError(error), attempt, nextDelayMs, at }, undefined);
  }

  #onFatal(room: Room, error: unknown, at: number): void {
    if (room.ended) return;
    this.#options.logger.warn({ roomId: room.roomId, error: describe(error) }, "upstream failed the room");
    room.state = transition(room.state, { type: "failed", at, cause: error }).state;
    this.#end(room, "failed", wireError(error), at, performance.now());
  }

  #end(room: Room, reason: EndedMessage["reason"], error: WireError | undefined, at: number, learnedAtHr: number): void {
    room.seq++;
    const message: EndedMessage = { type: "ended", roomId: room.roomId, seq: room.seq, reason, at, ...(error === undefined ? {} : { error }) };
    room.endedText = encodeServerMessage(message);
    this.#broadcast(room, message, learnedAtHr);
    room.ended = true;
    this.#options.logger.info({ roomId: room.roomId, reason, subscribers: room.subscribers.size }, "room ended; dropped");
    for (const subscriber of room.subscribers) {
      this.#bySubscriber.get(subscriber)?.delete(room.roomId);
      this.#subscriptions--;
    }
    room.subscribers.clear();
    this.#drop(room);
  }

  /** Forgets the room and ends its upstream watch. */
  #drop(room: Room): void {
    if (this.#rooms.get(room.roomId) === room) this.#rooms.delete(room.roomId);
    room.ended = true;
    this.#release(room);
  }

  #release(room: Room): void {
    const subscription = room.subscription;
    if (subscription === undefined) return;
    room.subscription = undefined;
    const done = subscription.unsubscribe().finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #snapshotOf(room: Room): string {
    return encodeServerMessage({
      type: "snapshot",
      roomId: room.roomId,
      seq: room.seq,
      result: room.last === undefined ? null : toWireResult(room.last.result),
      at: room.last?.at ?? null,
    });
  }

  #broadcast(room: Room, message: ServerMessage, learnedAtHr: number | undefined): void {
    if (room.subscribers.size === 0) return;
    const text = encodeServerMessage(message);
    for (const subscriber of [...room.subscribers]) subscriber.send(text, message.type, learnedAtHr);
  }
}

function sameObservation(a: Observation, b: Observation): boolean {
  switch (a.kind) {
    case "active":
      return b.kind === "active" && sameConnection(a.connection, b.connection);
    case "ended":
      return b.kind === "ended" && a.reason === b.reason;
    case "unrecognized":
      return b.kind === "unrecognized" && a.status === b.status;
    default:
      return a.kind === b.kind;
  }
}

/** An error as it may cross the wire: code, message and HTTP status only. */
export function wireError(error: unknown): WireError {
  if (error instanceof RoomWatcherError) {
    const status = (error as RoomWatcherError & { status?: unknown }).status;
    return { code: error.code, message: error.message.slice(0, 2000), ...(typeof status === "number" ? { status } : {}) };
  }
  return { code: "RW_UNKNOWN", message: describe(error).slice(0, 2000) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
