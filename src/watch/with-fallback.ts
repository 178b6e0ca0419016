/**
 * Push, with polling behind it. `withFallback(push, polling)` is a push source that serves each room from
 * `push` while it can deliver; once `push` has been unable to for `fallbackAfterMs` (its `disconnected`
 * events, with no `connected` between), every room is polled from `polling` through a fleet. `push` keeps
 * trying meanwhile; once it is back, each room's poll stops as soon as push has told it something.
 */
import { EventEmitter } from "eventemitter3";
import { type Clock, systemClock } from "../core/clock.js";
import type { SourceTarget } from "../core/evidence.js";
import type { PollingSource, PushSource, SourceListener } from "../core/source.js";
import { TimerHeap, type TimerHandle } from "../core/timer-heap.js";
import { validateDurationMs, validateRoomId } from "../core/validate.js";
import { safeEmit } from "../core/safe-emit.js";
import { type Fleet, getDefaultFleet, type Subscription } from "./fleet.js";
import { type PollOptions, type ResolvedPollOptions, resolvePollOptions } from "./options.js";

export const DEFAULT_FALLBACK_AFTER_MS = 10_000;

/** What withFallback hears from a push source about its connection; WebSocketSource emits both. */
export interface PushConnectionEvents {
  /** It can deliver again (a gateway welcomed it). */
  connected: [event: { readonly at: number }];
  /** It cannot deliver now (a connection lost or refused), and keeps trying. */
  disconnected: [event: { readonly at: number }];
}

/** A push source that says when it can deliver and when it cannot: a WebSocketSource. */
export interface ConnectionAwarePushSource extends PushSource {
  /** Whether it can deliver now. */
  readonly connected: boolean;
  on<E extends keyof PushConnectionEvents>(event: E, listener: (...args: PushConnectionEvents[E]) => void): unknown;
  off<E extends keyof PushConnectionEvents>(event: E, listener: (...args: PushConnectionEvents[E]) => void): unknown;
}

export interface WithFallbackOptions {
  /** How long `push` must be unable to deliver before the rooms are polled. Default 10,000 ms. */
  fallbackAfterMs?: number | undefined;
  /** The fleet the polls run in. Default the process-wide fleet. */
  fleet?: Fleet | undefined;
  /** How the polls are scheduled. Default the watcher's defaults. */
  pollOptions?: PollOptions | undefined;
  /** Time source for `fallbackAfterMs`: the push source's. Default the system clock. */
  clock?: Clock | undefined;
}

export interface FallbackSourceEvents {
  /** Polling started (`active` true), or ended because push is back or no room is left. */
  fallback: [event: { readonly active: boolean; readonly at: number }];
}

/** One subscription through the combinator: its push subscription, and its poll while falling back. */
interface FallbackRoom {
  readonly roomId: string;
  readonly listener: SourceListener;
  push: { unsubscribe(): Promise<void> } | undefined;
  poll: Subscription | undefined;
  /** A fatal error was delivered, or the listener left: nothing more reaches it. */
  ended: boolean;
}

/** `push` delivering; `push` unable to since a while (polling when the timer fires); `polling`. */
type Mode = { readonly kind: "push" } | { readonly kind: "unreachable"; readonly timer: TimerHandle } | { readonly kind: "polling" };

const PUSH: Mode = Object.freeze({ kind: "push" });

/** Serves rooms from a push source, and polls them while it cannot deliver. Build it with `withFallback`. */
export class FallbackSource extends EventEmitter<FallbackSourceEvents> implements PushSource {
  readonly kind = "push";
  readonly key: string;
  readonly #push: ConnectionAwarePushSource;
  readonly #polling: PollingSource;
  readonly #fallbackAfterMs: number;
  readonly #fleet: Fleet | undefined;
  readonly #pollOptions: ResolvedPollOptions;
  readonly #clock: Clock;
  readonly #timers: TimerHeap;
  readonly #rooms = new Set<FallbackRoom>();
  #mode: Mode = PUSH;
  readonly #onConnected = (): void => this.#pushBack();
  readonly #onDisconnected = (): void => this.#pushLost();

  constructor(push: ConnectionAwarePushSource, polling: PollingSource, options: WithFallbackOptions = {}) {
    super();
    this.#push = push;
    this.#polling = polling;
    this.key = `${push.key}+fallback:${polling.key}`;
    this.#fallbackAfterMs = validateDurationMs("fallbackAfterMs", options.fallbackAfterMs ?? DEFAULT_FALLBACK_AFTER_MS);
    this.#fleet = options.fleet;
    this.#pollOptions = resolvePollOptions(options.pollOptions ?? {});
    this.#clock = options.clock ?? systemClock;
    this.#timers = new TimerHeap(this.#clock);
  }

  /** Whether rooms are being polled because push could not deliver. */
  get fallbackActive(): boolean {
    return this.#mode.kind === "polling";
  }

  target(roomId: string): SourceTarget {
    // Failures are reported as the push source's (the gateway's), as before the fallback was a combinator.
    return this.#push.target?.(roomId) ?? this.#polling.target?.(roomId) ?? { name: "the push source", url: this.#push.key };
  }

  checkRoomId(roomId: string): void {
    this.#push.checkRoomId?.(roomId);
    this.#polling.checkRoomId?.(roomId);
  }

  subscribe(roomId: string, listener: SourceListener): { unsubscribe(): Promise<void> } {
    validateRoomId(roomId);
    this.checkRoomId(roomId);
    const room: FallbackRoom = { roomId, listener, push: undefined, poll: undefined, ended: false };
    if (this.#rooms.size === 0) {
      // Hear the push source only while there are rooms: a long-lived source keeps no listener of ours.
      this.#push.on("connected", this.#onConnected);
      this.#push.on("disconnected", this.#onDisconnected);
    }
    this.#rooms.add(room);
    if (this.#mode.kind === "polling") this.#startPoll(room);
    room.push = this.#push.subscribe(roomId, {
      onResult: (result, at) => {
        if (room.ended) return;
        // Push is back for this room: its poll is no longer needed.
        void this.#stopPoll(room);
        listener.onResult(result, at);
      },
      onTransientFailure: (failure) => {
        // While polling, the polls report their own failures; push's would be noise.
        if (!room.ended && this.#mode.kind !== "polling") listener.onTransientFailure(failure);
      },
      onFatal: (error, at) => this.#fail(room, error, at),
    });
    let done: Promise<void> | undefined;
    return { unsubscribe: () => (done ??= this.#unsubscribe(room)) };
  }

  async #unsubscribe(room: FallbackRoom): Promise<void> {
    room.ended = true;
    this.#rooms.delete(room);
    if (this.#rooms.size === 0) {
      this.#push.off("connected", this.#onConnected);
      this.#push.off("disconnected", this.#onDisconnected);
      this.#setMode(PUSH);
    }
    await Promise.all([room.push?.unsubscribe(), this.#stopPoll(room)]);
  }

  /** Push cannot deliver: the first time since it last could, the fallback delay starts. */
  #pushLost(): void {
    if (this.#mode.kind !== "push" || this.#rooms.size === 0) return;
    const timer = this.#timers.after(this.#fallbackAfterMs, () => {
      if (this.#push.connected || this.#rooms.size === 0) this.#setMode(PUSH);
      else this.#setMode({ kind: "polling" });
    });
    this.#setMode({ kind: "unreachable", timer });
  }

  #pushBack(): void {
    // Each room's poll stops when push has told it something (an empty snapshot says nothing).
    this.#setMode(PUSH);
  }

  /** The one place the mode changes: the timer goes with `unreachable`, the event with `polling`. */
  #setMode(next: Mode): void {
    const previous = this.#mode;
    if (previous === next) return;
    this.#mode = next;
    if (previous.kind === "unreachable") previous.timer.cancel();
    const at = this.#clock.now();
    if (next.kind === "polling" && previous.kind !== "polling") {
      safeEmit(this, "fallback", Object.freeze({ active: true, at }));
      for (const room of this.#rooms) this.#startPoll(room);
    } else if (previous.kind === "polling" && next.kind !== "polling") {
      safeEmit(this, "fallback", Object.freeze({ active: false, at }));
    }
  }

  #startPoll(room: FallbackRoom): void {
    if (room.poll !== undefined || room.ended) return;
    const fleet = this.#fleet ?? getDefaultFleet();
    room.poll = fleet.subscribe(this.#polling, room.roomId, this.#pollOptions, {
      onResult: (result, at) => {
        if (!room.ended) room.listener.onResult(result, at);
      },
      onTransientFailure: (failure) => {
        if (!room.ended) room.listener.onTransientFailure(failure);
      },
      onFatal: (error, at) => this.#fail(room, error, at),
    });
  }

  #stopPoll(room: FallbackRoom): Promise<void> {
    const poll = room.poll;
    if (poll === undefined) return Promise.resolve();
    room.poll = undefined;
    return poll.unsubscribe();
  }

  /** The room is over (push or poll said so): tell its listener once. */
  #fail(room: FallbackRoom, error: unknown, at: number): void {
    if (room.ended) return;
    room.ended = true;
    room.listener.onFatal(error, at);
  }
}

/**
 * A push source that falls back to polling: rooms come from `push` while it can deliver, and are polled
 * from `polling` (through `options.fleet`) once it has been unable to for `options.fallbackAfterMs`
 * (default 10,000 ms), until it is back. Its `fallback` event says when.
 */
export function withFallback(push: ConnectionAwarePushSource, polling: PollingSource, options: WithFallbackOptions = {}): FallbackSource {
  return new FallbackSource(push, polling, options);
}
