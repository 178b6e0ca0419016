/**
 * The room hub: one upstream watch per room (a fleet subscription, so the fleet's scheduling, retries
 * and request budget apply), fanned out to every subscriber. Each room runs the pure state machine
 * to know when it has ended; each change of observation goes out once, encoded once, with the room's
 * next sequence number. After its terminal event the room is dropped.
 *
 * Which instance watches a room upstream is the room directory's call. Alone, this one watches every
 * room it has subscribers of. Shared (several gateways on one Redis), the room's owner watches it and
 * publishes each change; the others follow: they apply the owner's messages in sequence, resync from
 * the cluster's snapshot after a gap (sending their subscribers a fresh snapshot), and take the watch
 * over, sequence numbers and all, when the owner's lease lapses.
 */
import { END_REASONS, type PollResult, observationKey, sameConnection, sameObservation } from "../core/observation.js";
import { initialState, isTerminal, type RoomState, type RoomStatus } from "../core/room-state.js";
import { RoomWatcherError } from "../core/errors.js";
import { isPushSource, type RoomSource, type SourceListener, type TransientFailure } from "../core/source.js";
import type { Fleet, Subscription } from "../watch/fleet.js";
import type { ResolvedPollOptions } from "../watch/options.js";
// The room directory has a RoomView of its own (what this instance knows, for claim rounds).
import { RoomView as RoomStateView } from "../watch/room-view.js";
import type { GatewayLogger } from "./logging.js";
import type { GatewayMetrics } from "./metrics.js";
import { checkSequence } from "../protocol/sequence.js";
import { type EndedMessage, encodeServerMessage, type ServerMessage, toWireResult, type WireError } from "../protocol/messages.js";
import {
  LocalRoomDirectory,
  type PublishedMessage,
  type RoomDirectory,
  type RoomDirectoryListener,
  type RoomRecord,
  type RoomView,
} from "./room-directory.js";

/** Whoever receives a room's messages: a connection, in practice. */
export interface Subscriber {
  /** Who the subscriber is, for the fair share of looks at rooms never seen (a connection's id). */
  readonly id: number;
  /**
   * Sends one encoded message. `learnedAtHr` (performance.now()) is when the gateway learned what it
   * says, for the push latency histogram; undefined for replies that carry no news.
   */
  send(text: string, type: ServerMessage["type"], learnedAtHr: number | undefined): void;
}

export interface RoomHubOptions {
  readonly fleet: Fleet;
  readonly source: RoomSource;
  readonly pollOptions: ResolvedPollOptions;
  readonly notFoundGraceMs: number;
  readonly metrics: GatewayMetrics;
  readonly logger: GatewayLogger;
  /** Who watches which room upstream. Default: this instance, alone. */
  readonly directory?: RoomDirectory | undefined;
  /** How long a room that ended as `not_found` is answered from memory, without a look. 0: never. */
  readonly notFoundMemoryMs: number;
  /** A readiness hint brings a look forward at most once per room per this interval. */
  readonly hintIntervalMs: number;
  /** Hears each room here reach a status (starting, active, ended), after the hub has acted on it. Default none. */
  readonly onChange?: ((change: RoomChange) => void) | undefined;
}

/** A room here reached a status: `detail` is an ended room's reason. */
export interface RoomChange {
  readonly roomId: string;
  /** `moved`: active again at another address (the room was rescheduled). */
  readonly status: "starting" | "active" | "moved" | "ended";
  readonly at: number;
  readonly detail: string | undefined;
}

/** Rooms here by status now: `unknown` (no answer that it exists yet), `starting`, `active`. */
export interface RoomStatusCounts {
  readonly unknown: number;
  readonly starting: number;
  readonly active: number;
}

/** `coalesced`: taken, but a hinted look is already due (or the room was hinted within the interval): it costs nothing. */
export type HintOutcome = "accepted" | "coalesced" | "unknown_room";

/** Rooms remembered as not found at most; past that the oldest are forgotten first. */
const MAX_REMEMBERED_NOT_FOUND = 100_000;

/** Owner messages a settling room holds at most; past that they are dropped and the next one resyncs it. */
const MAX_HELD_MESSAGES = 64;

/**
 * `joining`: waiting for the directory to say who watches the room; `owner`: this instance watches it
 * upstream; `follower`: another instance does, and this one applies what it publishes.
 */
type Role = "joining" | "owner" | "follower";

interface Room {
  readonly roomId: string;
  readonly subscribers: Set<Subscriber>;
  /** The subscriber who asked first: looks at the room are theirs until it is seen to exist. */
  readonly tenant: number;
  /** When this instance began to watch it (clock ms). */
  readonly openedAt: number;
  /** The first readiness hint since the answer before it (clock ms): the room said it is ready then. */
  hintedAt: number | undefined;
  /** Seen to exist (starting or active) at least once. */
  seen: boolean;
  seq: number;
  /** The room's state machine: the hub emits no events of its own, it reads the state to know when the room has ended. */
  readonly stateView: RoomStateView;
  last: { readonly result: PollResult; readonly at: number } | undefined;
  subscription: Subscription | undefined;
  role: Role;
  /** The owner's messages held while this instance's view is being settled (joining, or resyncing after a gap). */
  held: PublishedMessage[] | undefined;
  ended: boolean;
  /** The encoded `ended` message, once the room has ended. */
  endedText: string | undefined;
}

export class RoomHub {
  readonly #options: RoomHubOptions;
  readonly #directory: RoomDirectory;
  readonly #rooms = new Map<string, Room>();
  readonly #bySubscriber = new Map<Subscriber, Set<string>>();
  /** Rooms never seen to exist each subscriber is subscribed to, kept as they change: asked on every subscribe. */
  readonly #unseenBySubscriber = new Map<Subscriber, number>();
  /** Unsubscriptions under way, so close() can wait for them. */
  readonly #pending = new Set<Promise<void>>();
  readonly #controller = new AbortController();
  /** Rooms that ended as not_found, oldest first: their snapshot and ended messages, and until when they are told from memory. */
  readonly #notFound = new Map<string, { readonly snapshot: string; readonly ended: string; readonly until: number }>();
  #subscriptions = 0;

  constructor(options: RoomHubOptions) {
    this.#options = options;
    this.#directory = options.directory ?? new LocalRoomDirectory();
    this.#directory.attach(this.#directoryListener);
  }

  /** Rooms with subscribers here (alone, every one of them is watched upstream by this instance). */
  get rooms(): number {
    return this.#rooms.size;
  }

  /** Rooms this instance watches upstream. */
  get ownedRooms(): number {
    let owned = 0;
    for (const room of this.#rooms.values()) if (room.role === "owner") owned++;
    return owned;
  }

  /** Subscriptions across all subscribers. */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  /** Rooms here by status, counted as asked (a walk over the rooms: for a dashboard's poll, not a hot path). */
  statusCounts(): RoomStatusCounts {
    const counts = { unknown: 0, starting: 0, active: 0 };
    for (const room of this.#rooms.values()) {
      const status = room.stateView.state.status;
      if (status !== "terminated" && !room.ended) counts[status]++;
    }
    return counts;
  }

  /** Rooms `subscriber` is subscribed to. */
  countOf(subscriber: Subscriber): number {
    return this.#bySubscriber.get(subscriber)?.size ?? 0;
  }

  isSubscribed(subscriber: Subscriber, roomId: string): boolean {
    return this.#bySubscriber.get(subscriber)?.has(roomId) ?? false;
  }

  /** Rooms `subscriber` is subscribed to that were never seen to exist. */
  unseenCountOf(subscriber: Subscriber): number {
    return this.#unseenBySubscriber.get(subscriber) ?? 0;
  }

  /**
   * What subscribing `roomId` would add: `free` (a room watched and seen to exist, or remembered as not
   * found), `unseen` (a room watched but never seen to exist), `new` (a new watch, of a room never seen).
   */
  costOf(roomId: string): "free" | "new" | "unseen" {
    const room = this.#rooms.get(roomId);
    if (room !== undefined && !room.ended) return room.seen ? "free" : "unseen";
    return this.#remembered(roomId) === undefined ? "new" : "free";
  }

  /**
   * Subscribes (or, when already subscribed, resyncs): either way the subscriber gets the room's
   * snapshot at once (shared, once the directory has said who watches it), then every change. The
   * caller validated `roomId` and the limits.
   */
  /** Why the upstream could never have `roomId` (its provider's id rule), or undefined when it could. */
  refusal(roomId: string): string | undefined {
    try {
      this.#options.source.checkRoomId?.(roomId);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  subscribe(subscriber: Subscriber, roomId: string): void {
    if (this.#controller.signal.aborted) return;
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      const remembered = this.#remembered(roomId);
      if (remembered !== undefined) {
        // Ended as not found a moment ago: told from memory, at no upstream cost.
        this.#options.metrics.notFoundMemory.inc();
        subscriber.send(remembered.snapshot, "snapshot", undefined);
        subscriber.send(remembered.ended, "ended", undefined);
        return;
      }
      room = this.#open(roomId, subscriber.id);
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
      if (!room.seen) this.#countUnseen(subscriber, 1);
    }
    // A joining room sends every subscriber its snapshot once the directory has answered.
    if (room.role !== "joining") subscriber.send(this.#snapshotOf(room), "snapshot", undefined);
  }

  unsubscribe(subscriber: Subscriber, roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined || !room.subscribers.delete(subscriber)) return;
    this.#subscriptions--;
    if (!room.seen) this.#countUnseen(subscriber, -1);
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
   * is treated like any poll's: the hint itself never changes state. Shared, a hint for a room another
   * instance watches is passed on to it. Rooms without subscribers here are refused.
   */
  hint(roomId: string): HintOutcome {
    const room = this.#rooms.get(roomId);
    if (room === undefined || room.ended || this.#controller.signal.aborted) return "unknown_room";
    if (room.role === "owner") return this.#prompt(room);
    return this.#directory.hint(roomId) ? "accepted" : "unknown_room";
  }

  /** A hinted look: at most one per room per hint interval, and never sooner than the floor after any look. */
  #prompt(room: Room): HintOutcome {
    const now = this.#options.fleet.clock.now();
    if (room.hintedAt === undefined || room.hintedAt < (room.last?.at ?? room.openedAt)) room.hintedAt = now;
    const prompted = this.#options.fleet.bringForward(room.roomId, this.#options.source, this.#options.hintIntervalMs);
    if (prompted === undefined) return "unknown_room";
    return prompted ? "accepted" : "coalesced";
  }

  /** The room was seen to exist, if `observation` says so: from now on it counts against nobody's rooms never seen. */
  #seen(room: Room, observation: { readonly kind: string }): void {
    if (room.seen || !isSeen(observation)) return;
    room.seen = true;
    for (const subscriber of room.subscribers) this.#countUnseen(subscriber, -1);
  }

  #countUnseen(subscriber: Subscriber, change: 1 | -1): void {
    const count = (this.#unseenBySubscriber.get(subscriber) ?? 0) + change;
    if (count === 0) this.#unseenBySubscriber.delete(subscriber);
    else this.#unseenBySubscriber.set(subscriber, count);
  }

  /** The room's memory of having ended as not found, while it lasts (forgetting what has lapsed). */
  #remembered(roomId: string): { readonly snapshot: string; readonly ended: string } | undefined {
    const now = this.#options.fleet.clock.now();
    // Oldest first, all with the same lifetime: what has lapsed is at the front.
    for (const [id, entry] of this.#notFound) {
      if (entry.until > now) break;
      this.#notFound.delete(id);
    }
    return this.#notFound.get(roomId);
  }

  #rememberNotFound(room: Room, ended: string): void {
    const memoryMs = this.#options.notFoundMemoryMs;
    if (memoryMs <= 0) return;
    this.#notFound.delete(room.roomId);
    if (this.#notFound.size >= MAX_REMEMBERED_NOT_FOUND) {
      const oldest = this.#notFound.keys().next();
      if (oldest.done !== true) this.#notFound.delete(oldest.value);
    }
    this.#notFound.set(room.roomId, { snapshot: this.#snapshotOf(room), ended, until: this.#options.fleet.clock.now() + memoryMs });
  }

  /** Stops every upstream watch (releasing every room it holds); resolves once nothing is left running. */
  async close(): Promise<void> {
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("gateway closing"));
    for (const room of [...this.#rooms.values()]) this.#drop(room);
    this.#bySubscriber.clear();
    this.#subscriptions = 0;
    this.#unseenBySubscriber.clear();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #open(roomId: string, tenant: number): Room {
    const { fleet, notFoundGraceMs, logger } = this.#options;
    const room: Room = {
      roomId,
      subscribers: new Set(),
      tenant,
      openedAt: fleet.clock.now(),
      hintedAt: undefined,
      seen: false,
      seq: 0,
      stateView: new RoomStateView({ roomId, state: initialState(fleet.clock.now(), notFoundGraceMs) }),
      last: undefined,
      subscription: undefined,
      role: "joining",
      held: [],
      ended: false,
      endedText: undefined,
    };
    this.#rooms.set(roomId, room);
    logger.debug({ roomId }, "joining room");
    // Alone, this answers at once (owned) and the watch starts before we return.
    this.#directory.join(roomId);
    return room;
  }

  // One listener for every room: a closure per room would cost memory at 100,000 rooms.
  readonly #directoryListener: RoomDirectoryListener = {
    owned: (roomId, record) => {
      const room = this.#live(roomId);
      if (room !== undefined) this.#becomeOwner(room, record);
    },
    following: (roomId, record) => {
      const room = this.#live(roomId);
      if (room !== undefined) this.#becomeFollower(room, record);
    },
    message: (roomId, message) => {
      const room = this.#live(roomId);
      if (room === undefined) return;
      if (room.held !== undefined) {
        if (room.held.length < MAX_HELD_MESSAGES) room.held.push(message);
        return;
      }
      // The owner's own messages come back to it; it has applied them already.
      if (room.role === "follower") this.#apply(room, message);
    },
    ended: (roomId, message) => {
      const room = this.#live(roomId);
      if (room === undefined) return;
      // A joining room's subscribers have had no snapshot yet: the protocol answers subscribe with one.
      if (room.role === "joining") this.#resyncSubscribers(room);
      room.held = undefined;
      room.seq = Math.max(room.seq, message.seq);
      this.#conclude(room, message, encodeServerMessage(message), performance.now());
    },
    hinted: (roomId) => {
      const room = this.#live(roomId);
      if (room?.role === "owner") this.#prompt(room);
    },
    view: (roomId) => {
      const room = this.#live(roomId);
      return room === undefined ? undefined : this.#viewOf(room);
    },
  };

  #live(roomId: string): Room | undefined {
    const room = this.#rooms.get(roomId);
    return room === undefined || room.ended ? undefined : room;
  }

  #becomeOwner(room: Room, record: RoomRecord | undefined): void {
    const settling = room.role === "joining" || room.held !== undefined;
    const wasOwner = room.role === "owner";
    room.role = "owner";
    // Whatever the owner before us published and we held, our own looks supersede.
    room.held = undefined;
    this.#adoptRecord(room, record, settling);
    if (!wasOwner) this.#options.logger.debug({ roomId: room.roomId, seq: room.seq }, "watching room upstream");
    if (isTerminal(room.stateView.state)) {
      // The last owner saw the end but did not live to say so.
      this.#endFromState(room, this.#options.fleet.clock.now(), performance.now());
      return;
    }
    this.#startWatch(room);
  }

  #becomeFollower(room: Room, record: RoomRecord | undefined): void {
    const settling = room.role === "joining" || room.held !== undefined;
    if (room.role === "owner") this.#options.logger.info({ roomId: room.roomId, seq: room.seq }, "another instance watches the room now");
    room.role = "follower";
    this.#release(room);
    this.#adoptRecord(room, record, settling);
    const held = room.held ?? [];
    room.held = undefined;
    for (const message of held) {
      if (room.ended || room.held !== undefined) break;
      this.#apply(room, message);
    }
  }

  /** A follower applies what the owner published: in sequence, or resync after a gap. */
  #apply(room: Room, message: PublishedMessage): void {
    switch (message.type) {
      case "failure":
        this.#broadcast(room, message, undefined);
        return;
      case "snapshot":
        this.#adoptRecord(room, { seq: message.seq, result: message.result, at: message.at }, false);
        return;
      case "update": {
        const check = checkSequence(room.seq, message.seq);
        if (check === "stale") return;
        if (check === "gap") {
          this.#resyncFromCluster(room);
          return;
        }
        const learnedAtHr = performance.now();
        room.seq = message.seq;
        room.last = { result: message.result, at: message.at };
        this.#seen(room, message.result.observation);
        const before = room.stateView.state.status;
        room.stateView.apply({ type: "observed", at: message.at, observation: message.result.observation });
        this.#broadcast(room, message, learnedAtHr);
        this.#reached(room, before, message.at);
        return;
      }
      case "ended":
        // Even after a gap: the room is over either way, and the clients take `ended` whatever its seq.
        if (checkSequence(room.seq, message.seq) === "stale") return;
        room.seq = message.seq;
        this.#conclude(room, message, encodeServerMessage(message), performance.now());
        return;
      default:
        return;
    }
  }

  /**
   * Adopts the cluster's record of the room, if any. Subscribers get a fresh snapshot when it changed
   * what this instance knew, or when the room was settling (joining, or resyncing after a gap) whatever
   * it said; a change to a settled room counts as a resync.
   */
  #adoptRecord(room: Room, record: RoomRecord | undefined, settling: boolean): void {
    const changed = record !== undefined && this.#adopt(room, record);
    if (changed && !settling) this.#options.metrics.resyncs?.inc({ cause: "cluster_state" });
    if (changed || settling) this.#resyncSubscribers(room);
  }

  /** Adopts the cluster's state of the room; true if it differs from what this instance knew. */
  #adopt(room: Room, record: RoomRecord): boolean {
    const known = room.last?.result.observation;
    const same = record.result === null ? known === undefined : known !== undefined && sameObservation(known, record.result.observation);
    if (record.seq === room.seq && same) return false;
    const now = this.#options.fleet.clock.now();
    room.seq = record.seq;
    room.last = record.result === null ? undefined : { result: record.result, at: record.at ?? now };
    if (record.result !== null) this.#seen(room, record.result.observation);
    // What the state machine needs from the past is what the room was last seen as.
    room.stateView.reset(initialState(now, this.#options.notFoundGraceMs));
    if (room.last !== undefined) room.stateView.apply({ type: "observed", at: now, observation: room.last.result.observation });
    return true;
  }

  #resyncFromCluster(room: Room): void {
    this.#options.metrics.resyncs?.inc({ cause: "gap" });
    room.held = [];
    this.#options.logger.debug({ roomId: room.roomId, seq: room.seq }, "gap in the owner's messages; resyncing");
    this.#directory.refresh(room.roomId);
  }

  /** Every local subscriber gets the room's snapshot: it replaces whatever they knew. */
  #resyncSubscribers(room: Room): void {
    if (room.subscribers.size === 0) return;
    const text = this.#snapshotOf(room);
    for (const subscriber of [...room.subscribers]) subscriber.send(text, "snapshot", undefined);
  }

  #startWatch(room: Room): void {
    if (room.subscription !== undefined || room.ended) return;
    const { fleet, source, pollOptions } = this.#options;
    const listener: SourceListener = {
      onResult: (result, at) => this.#onResult(room, result, at),
      onTransientFailure: (failure) => this.#onTransientFailure(room, failure),
      onFatal: (error, at) => this.#onFatal(room, error, at),
    };
    room.subscription = fleet.subscribe(source, room.roomId, pollOptions, listener, room.seen ? {} : { tenant: room.tenant });
    // A terminal answer replayed during subscribe ended the room before it had a subscription to drop.
    if (room.ended || room.role !== "owner") this.#release(room);
  }

  #onResult(room: Room, result: PollResult, at: number): void {
    if (room.ended || room.role !== "owner") return;
    const learnedAtHr = performance.now();
    const previous = room.last;
    room.last = { result, at };
    this.#seen(room, result.observation);
    const stateBefore = room.stateView.state;
    const before = stateBefore.status;
    room.stateView.onResult(result, at);
    if (previous === undefined || !sameObservation(previous.result.observation, result.observation)) {
      room.seq++;
      const message: PublishedMessage = { type: "update", roomId: room.roomId, seq: room.seq, result: toWireResult(result), at };
      this.#publish(room, message, this.#broadcast(room, message, learnedAtHr));
    }
    if (before !== "active" && statusOf(room) === "active") this.#detected(room, previous?.at, at);
    this.#reached(room, before, at);
    const after = room.stateView.state;
    // A move seen at once (no starting between): active here, active at another address now.
    if (stateBefore.status === "active" && after.status === "active" && !sameConnection(stateBefore.connection, after.connection)) this.#tellActive(room, after, at);
    if (isTerminal(room.stateView.state)) this.#endFromState(room, at, learnedAtHr);
  }

  /**
   * The room turned active somewhere between what this instance last knew without it being active (its
   * previous answer, else the start of the watch; or the first readiness hint after that, which says the
   * room is ready) and the answer that said active: how late the gateway may have been. A push upstream
   * tells as it learns, so there is no window to measure.
   */
  #detected(room: Room, previousAt: number | undefined, at: number): void {
    if (isPushSource(this.#options.source)) return;
    const lastKnown = previousAt ?? room.openedAt;
    const from = room.hintedAt !== undefined && room.hintedAt >= lastKnown ? room.hintedAt : lastKnown;
    room.hintedAt = undefined;
    this.#options.metrics.detectionLatency.observe(Math.max(0, at - from) / 1000);
  }

  /** Counts (and tells) a room reaching starting or active. */
  #reached(room: Room, before: RoomStatus, at: number): void {
    const status = statusOf(room);
    if (status === before || (status !== "starting" && status !== "active")) return;
    this.#options.metrics.roomTransitions.inc({ state: status });
    const state = room.stateView.state;
    if (state.status === "active") this.#tellActive(room, state, at);
    else this.#options.onChange?.({ roomId: room.roomId, status, at, detail: undefined });
  }

  /** Tells a room active: `moved`, with its new address, when it had been active elsewhere. */
  #tellActive(room: Room, state: Extract<RoomState, { status: "active" }>, at: number): void {
    const { host, port } = state.connection.exposedPort;
    this.#options.onChange?.({ roomId: room.roomId, status: state.moved ? "moved" : "active", at, detail: state.moved ? `${host}:${port}` : undefined });
  }

  #onTransientFailure(room: Room, failure: TransientFailure): void {
    if (room.ended || room.role !== "owner") return;
    const { error, attempt, nextDelayMs, at } = failure;
    const message: PublishedMessage = { type: "failure", roomId: room.roomId, error: wireError(error), attempt, nextDelayMs, at };
    this.#publish(room, message, this.#broadcast(room, message, undefined));
  }

  #onFatal(room: Room, error: unknown, at: number): void {
    if (room.ended || room.role !== "owner") return;
    this.#options.logger.warn({ roomId: room.roomId, error: describe(error) }, "upstream failed the room");
    room.stateView.onFatal(error, at);
    this.#end(room, "failed", wireError(error), at, performance.now());
  }

  #endFromState(room: Room, at: number, learnedAtHr: number): void {
    const state = room.stateView.state;
    if (!isTerminal(state)) return;
    const hostSaid = state.reason === "not_found" || (END_REASONS as readonly string[]).includes(state.reason);
    const reason = hostSaid ? (state.reason as EndedMessage["reason"]) : "failed";
    this.#end(room, reason, undefined, at, learnedAtHr, { hostState: state.hostState, detail: state.detail });
  }

  /** The owner ends the room: tells everyone (here and, shared, every instance), then drops it. */
  #end(room: Room, reason: EndedMessage["reason"], error: WireError | undefined, at: number, learnedAtHr: number, words: { hostState?: string | undefined; detail?: string | undefined } = {}): void {
    room.seq++;
    const message: EndedMessage = {
      type: "ended",
      roomId: room.roomId,
      seq: room.seq,
      reason,
      at,
      ...(error === undefined ? {} : { error }),
      ...(words.hostState === undefined ? {} : { hostState: words.hostState }),
      ...(words.detail === undefined ? {} : { detail: words.detail }),
    };
    const text = encodeServerMessage(message);
    this.#publish(room, message, text);
    this.#conclude(room, message, text, learnedAtHr);
  }

  /** Shared, the owner's change goes to the other instances (alone there is nobody to tell). */
  #publish(room: Room, message: PublishedMessage, text: string | undefined): void {
    if (this.#directory.shared) this.#directory.publish(room.roomId, message, text ?? encodeServerMessage(message));
  }

  /** Sends `ended` to every local subscriber and drops the room with their subscriptions. */
  #conclude(room: Room, message: EndedMessage, text: string, learnedAtHr: number): void {
    room.endedText = text;
    if (message.reason === "not_found") this.#rememberNotFound(room, text);
    for (const subscriber of [...room.subscribers]) subscriber.send(text, "ended", learnedAtHr);
    room.ended = true;
    this.#options.logger.info({ roomId: room.roomId, reason: message.reason, subscribers: room.subscribers.size }, "room ended; dropped");
    this.#options.metrics.roomTransitions.inc({ state: "ended" });
    this.#options.onChange?.({ roomId: room.roomId, status: "ended", at: message.at, detail: message.reason });
    for (const subscriber of room.subscribers) {
      this.#bySubscriber.get(subscriber)?.delete(room.roomId);
      this.#subscriptions--;
      if (!room.seen) this.#countUnseen(subscriber, -1);
    }
    room.subscribers.clear();
    this.#drop(room);
  }

  /** Forgets the room (letting the directory know) and ends its upstream watch. */
  #drop(room: Room): void {
    room.ended = true;
    if (this.#rooms.get(room.roomId) === room) {
      this.#rooms.delete(room.roomId);
      this.#directory.leave(room.roomId);
    }
    this.#release(room);
  }

  #release(room: Room): void {
    const subscription = room.subscription;
    if (subscription === undefined) return;
    room.subscription = undefined;
    const done = subscription.unsubscribe().finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #viewOf(room: Room): RoomView {
    if (room.last === undefined) return { seq: room.seq, fingerprint: "", snapshot: undefined };
    // Encoded only if read: a routine claim round asks every room's view but sends few snapshots.
    const snapshotOf = (): string => this.#snapshotOf(room);
    return {
      seq: room.seq,
      fingerprint: observationKey(room.last.result.observation),
      get snapshot() {
        return snapshotOf();
      },
    };
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

  /** Sends a message to every local subscriber; returns its encoding (undefined when nobody is here). */
  #broadcast(room: Room, message: ServerMessage, learnedAtHr: number | undefined): string | undefined {
    if (room.subscribers.size === 0) return undefined;
    const text = encodeServerMessage(message);
    for (const subscriber of [...room.subscribers]) subscriber.send(text, message.type, learnedAtHr);
    return text;
  }
}

/** Read afresh: a status read before the state machine stepped says nothing about the status after. */
function statusOf(room: Room): RoomStatus {
  return room.stateView.state.status;
}

/** An error as it may cross the wire: code, message and HTTP status only. */
export function wireError(error: unknown): WireError {
  if (error instanceof RoomWatcherError) {
    const status = (error as RoomWatcherError & { status?: unknown }).status;
    return { code: error.code, message: error.message.slice(0, 2000), ...(typeof status === "number" ? { status } : {}) };
  }
  return { code: "RW_UNKNOWN", message: describe(error).slice(0, 2000) };
}

/** Seen to exist: the host said the room is starting or active (an ended or unrecognized answer does not vouch for a look). */
function isSeen(observation: { readonly kind: string }): boolean {
  return observation.kind === "starting" || observation.kind === "active";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
