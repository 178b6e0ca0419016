/**
 * RoomWatcher: one room's state machine, fed by the fleet's shared poll loop of that room, with
 * its own deadline and AbortSignal. State is committed before any event is emitted; a listener
 * that throws is reported and cannot corrupt the watcher.
 */
import { EventEmitter } from "eventemitter3";
import { EvidenceLog } from "../core/evidence.js";
import type { Connection } from "../core/observation.js";
import { initialState, isTerminal, lastConnectionOf, type RoomState, type RoomStatus } from "../core/room-state.js";
import type { TimerHandle } from "../core/timer-heap.js";
import type { RoomSource } from "../core/source.js";
import { validateDurationMs, validateRoomId } from "../core/validate.js";
import { ConfigError } from "../core/errors.js";
import type { RoomWatcherEvents } from "./events.js";
import { type Fleet, getDefaultFleet, type Subscription } from "./fleet.js";
import { DEFAULT_TIMEOUT_MS, type PollOptions, resolvePollOptions, withPollDefaults } from "./options.js";
import { type SourceOptions, sourceFromOptions } from "./source-options.js";
import type { RoomPollPlacement } from "./room-poll.js";
import { RoomView } from "./room-view.js";

export interface RoomWatcherOptions extends PollOptions, SourceOptions {
  /** The room to watch. */
  roomId: string;
  /** Deadline to become active, from start(). `Infinity` for none. Default 120,000 ms. */
  timeoutMs?: number | undefined;
  /** A 404 this soon after start() means "not there yet", not "gone". Default the fleet's (5,000 ms). */
  notFoundGraceMs?: number | undefined;
  /** Aborting it ends the watch with reason `aborted`. */
  signal?: AbortSignal | undefined;
  /** The fleet to poll through (its request budget, and its defaults for source and poll options). Default the process-wide fleet. */
  fleet?: Fleet | undefined;
  /** The room's process (the create response's `processId`): when a sibling on it changes, this room is looked at at once. */
  processId?: string | undefined;
  /** When the room was created (epoch ms; default: when watching starts). The learned schedule counts from here. */
  createdAt?: number | undefined;
}

export class RoomWatcher extends EventEmitter<RoomWatcherEvents> {
  readonly roomId: string;
  readonly source: RoomSource;
  readonly fleet: Fleet;
  readonly timeoutMs: number;
  readonly notFoundGraceMs: number;
  readonly #pollOptions: ReturnType<typeof resolvePollOptions>;
  readonly #signal: AbortSignal | undefined;
  readonly #placement: RoomPollPlacement | undefined;
  /** The room's state and evidence; the fleet's feed reaches the watcher through it. */
  readonly #view: RoomView;
  #started = false;
  #subscription: Subscription | undefined;
  #deadline: TimerHandle | undefined;
  #teardown: Promise<void> | undefined;

  constructor(options: RoomWatcherOptions) {
    super();
    this.roomId = validateRoomId(options.roomId);
    this.fleet = options.fleet ?? getDefaultFleet();
    const source = sourceFromOptions(options) ?? this.fleet.defaultSource;
    if (source === undefined) throw new ConfigError("either source or appId is required");
    source.checkRoomId?.(this.roomId);
    this.source = source;
    this.timeoutMs = options.timeoutMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : validateDurationMs("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.notFoundGraceMs = validateDurationMs("notFoundGraceMs", options.notFoundGraceMs ?? this.fleet.notFoundGraceMs);
    this.#pollOptions = resolvePollOptions(withPollDefaults(options, this.fleet.pollDefaults));
    this.#signal = options.signal;
    this.#placement =
      options.processId === undefined && options.createdAt === undefined ? undefined : { processId: options.processId, createdAt: options.createdAt };
    this.#view = new RoomView({
      roomId: this.roomId,
      state: initialState(this.fleet.clock.now(), this.notFoundGraceMs),
      emitter: this,
      evidence: new EvidenceLog(this.source.target?.(this.roomId)),
      committed: (state) => this.#committed(state),
    });
  }

  /** The current state (a readonly snapshot). */
  get state(): RoomState {
    return this.#view.state;
  }

  get status(): RoomStatus {
    return this.#view.state.status;
  }

  /** The room's connection while active, else undefined. */
  get connection(): Connection | undefined {
    const state = this.#view.state;
    return state.status === "active" ? state.connection : undefined;
  }

  /** Starts watching; the first look is immediate. Calling it again does nothing. */
  start(): this {
    const view = this.#view;
    if (this.#started || isTerminal(view.state)) return this;
    this.#started = true;
    const now = this.fleet.clock.now();
    view.reset(initialState(now, this.notFoundGraceMs));
    if (this.#signal?.aborted) {
      view.apply({ type: "aborted", at: now, cause: this.#signal.reason });
      return this;
    }
    if (this.#signal !== undefined) {
      const signal = this.#signal;
      this.#onAbort = () => view.apply({ type: "aborted", at: this.fleet.clock.now(), cause: signal.reason });
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (Number.isFinite(this.timeoutMs)) {
      this.#deadline = this.fleet.timers.after(this.timeoutMs, () => view.apply({ type: "deadline", at: this.fleet.clock.now() }));
    }
    let subscription: Subscription;
    try {
      subscription = this.fleet.subscribe(this.source, this.roomId, this.#pollOptions, view, this.#placement);
    } catch (error) {
      // A push source that throws as it subscribes fails the watch as any fatal source error does,
      // which also drops the deadline and the abort listener set above.
      view.onFatal(error, this.fleet.clock.now());
      return this;
    }
    // Joining a running poll replays its latest answer at once, which may already have ended us.
    if (isTerminal(view.state)) this.#teardown = subscription.unsubscribe();
    else this.#subscription = subscription;
    return this;
  }

  /** Ends the watch (reason `stopped`, unless it already ended). Idempotent; resolves once nothing is left running. */
  stop(): Promise<void> {
    this.#view.apply({ type: "stopped", at: this.fleet.clock.now() });
    return this.#teardown ?? Promise.resolve();
  }

  #onAbort: (() => void) | undefined;

  /** A change is committed (its events not yet emitted): the deadline ends with waiting, everything with the watch. */
  #committed(state: RoomState): void {
    if (state.status !== "unknown" && state.status !== "starting") this.#cancelDeadline();
    if (isTerminal(state)) this.#release();
  }

  #cancelDeadline(): void {
    this.#deadline?.cancel();
    this.#deadline = undefined;
  }

  #release(): void {
    this.#cancelDeadline();
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener("abort", this.#onAbort);
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#teardown = subscription?.unsubscribe() ?? Promise.resolve();
  }

  /** The last connection the room had (while active or after). */
  get lastConnection(): Connection | undefined {
    return lastConnectionOf(this.#view.state);
  }
}
