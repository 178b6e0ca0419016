/**
 * Where observations come from. The core knows nothing of Hathora: a polling source answers "what
 * is this room's status now?"; a push source tells a listener whenever it changes. Both throw or
 * report RoomWatcherErrors when they cannot tell.
 */
import type { SourceTarget } from "./evidence.js";
import type { PollResult } from "./observation.js";
import type { RoomWatcherError } from "./errors.js";

/**
 * A limit the upstream itself puts on requests (Edgegap: 20 status requests/s per organisation), which a
 * fleet keeps a source's looks within, besides its own budget.
 */
export interface RequestBudget {
  /**
   * Whose limit it is (a host and an account): in one fleet, every source whose budget has this key shares
   * one budget, and a 429 to any of them pauses them all. Must not contain secrets.
   */
  readonly key: string;
  /** Requests started per second; `Infinity` for no rate of its own (a pause group only). */
  readonly maxRequestsPerSecond: number;
  /** Requests that may start back to back after a quiet spell. Default a twentieth of the rate (at least 1). */
  readonly burst?: number | undefined;
}

export interface PollingSource {
  readonly kind?: "poll" | undefined;
  /**
   * Names the upstream. Watches of the same room through sources with the same key share one
   * poll. Must not contain secrets.
   */
  readonly key: string;
  /**
   * The upstream's own request budget. Default none: the source's looks share the fleet's budget and its
   * 429 pause with every other source that declares none.
   */
  readonly budget?: RequestBudget | undefined;
  /** Where this source looks for `roomId`, for messages: no secret in it. */
  target?(roomId: string): SourceTarget;
  /** Throws ConfigError when `roomId` can never name a room here (the provider's own id rule), before any request. */
  checkRoomId?(roomId: string): void;
  /** One look at the room. Throws RoomWatcherError (retryable or not); rejects with `signal.reason` on abort. */
  poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult>;
}

/** A transient failure: reported, then retried after `nextDelayMs`. */
export interface TransientFailure {
  readonly error: RoomWatcherError;
  /** Failures in a row, 1 for the first. */
  readonly attempt: number;
  readonly nextDelayMs: number;
  readonly at: number;
}

/** Hears what a source learns about one room. */
export interface SourceListener {
  onResult(result: PollResult, at: number): void;
  onTransientFailure(failure: TransientFailure): void;
  /** A terminal error: the source has given up on the room. */
  onFatal(error: unknown, at: number): void;
  /** The feed was closed under the listener (its fleet closed): no verdict on the room, and nothing more will come. */
  onClosed?(at: number): void;
}

/** A source that pushes changes (a gateway over WebSocket, say) instead of being polled. */
export interface PushSource {
  readonly kind: "push";
  /** Names the upstream, as for PollingSource. Must not contain secrets. */
  readonly key: string;
  /** Where this source looks for `roomId`, for messages: no secret in it. */
  target?(roomId: string): SourceTarget;
  /** Throws ConfigError when `roomId` can never name a room here (the provider's own id rule), before any request. */
  checkRoomId?(roomId: string): void;
  /**
   * Starts telling `listener` about the room, its current state first. The fleet subscribes once
   * per room however many watchers it has. `unsubscribe` resolves once nothing is left running.
   */
  subscribe(roomId: string, listener: SourceListener): { unsubscribe(): Promise<void> };
}

export type RoomSource = PollingSource | PushSource;

export function isPushSource(source: RoomSource): source is PushSource {
  return source.kind === "push";
}
