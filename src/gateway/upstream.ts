/**
 * The gateway's upstream: a polling source wrapped to count every request by outcome, for /metrics
 * and for whoever judges the upstream's health (one classification, two readers). A push source
 * (Agones' namespace watch) sends no request per room: its answers and failures are judged the same
 * way, as they reach a room.
 */
import type { PollResult } from "../core/observation.js";
import { ErrorCode, HttpError, RoomWatcherError } from "../core/errors.js";
import type { PollingSource, PushSource, RequestBudget, SourceListener } from "../core/source.js";
import type { GatewayMetrics, UpstreamOutcome } from "./metrics.js";

/** Hears every upstream request's outcome, with the error of a failed one. */
export type UpstreamObserver = (outcome: UpstreamOutcome, error: unknown) => void;

export class CountingSource implements PollingSource {
  readonly kind = "poll";
  readonly key: string;
  /** The wrapped source's: counting changes no limit. */
  readonly budget: RequestBudget | undefined;
  readonly #inner: PollingSource;
  readonly #metrics: GatewayMetrics;
  readonly #observe: UpstreamObserver;
  #requests = 0;

  constructor(inner: PollingSource, metrics: GatewayMetrics, observe: UpstreamObserver = () => undefined) {
    this.#inner = inner;
    this.#metrics = metrics;
    this.#observe = observe;
    this.key = `gateway-upstream:${inner.key}`;
    this.budget = inner.budget;
  }

  /** Upstream requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  checkRoomId(roomId: string): void {
    this.#inner.checkRoomId?.(roomId);
  }

  async poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    this.#requests++;
    let result: PollResult;
    try {
      result = await this.#inner.poll(roomId, options);
    } catch (error) {
      this.#count(options.signal.aborted ? "aborted" : outcomeOf(error), error);
      throw error;
    }
    this.#count(result.observation.kind === "not_found" ? "not_found" : "ok", undefined);
    return result;
  }

  #count(outcome: UpstreamOutcome, error: unknown): void {
    this.#metrics.upstreamRequests.inc({ outcome });
    this.#observe(outcome, error);
  }
}

/** A push source whose answers and failures, as each room hears them, are judged like a poll's. */
export class ObservedPushSource implements PushSource {
  readonly kind = "push";
  readonly key: string;
  readonly #inner: PushSource;
  readonly #observe: UpstreamObserver;

  constructor(inner: PushSource, observe: UpstreamObserver = () => undefined) {
    this.#inner = inner;
    this.#observe = observe;
    this.key = `gateway-upstream:${inner.key}`;
  }

  checkRoomId(roomId: string): void {
    this.#inner.checkRoomId?.(roomId);
  }

  target(roomId: string) {
    return this.#inner.target?.(roomId) ?? { name: "the upstream", url: this.#inner.key };
  }

  subscribe(roomId: string, listener: SourceListener): { unsubscribe(): Promise<void> } {
    return this.#inner.subscribe(roomId, {
      onResult: (result, at) => {
        this.#observe(result.observation.kind === "not_found" ? "not_found" : "ok", undefined);
        listener.onResult(result, at);
      },
      onTransientFailure: (failure) => {
        this.#observe(outcomeOf(failure.error), failure.error);
        listener.onTransientFailure(failure);
      },
      onFatal: (error, at) => listener.onFatal(error, at),
      onClosed: (at) => listener.onClosed?.(at),
    });
  }
}

function outcomeOf(error: unknown): UpstreamOutcome {
  if (!(error instanceof RoomWatcherError)) return "other";
  switch (error.code) {
    case ErrorCode.HTTP:
      return error instanceof HttpError ? "http_error" : "other";
    case ErrorCode.RATE_LIMITED:
      return "rate_limited";
    case ErrorCode.NETWORK:
      return "network";
    case ErrorCode.REQUEST_TIMEOUT:
      return "timeout";
    case ErrorCode.INVALID_PAYLOAD:
      return "invalid_payload";
    default:
      return "other";
  }
}
