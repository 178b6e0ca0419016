/** The gateway's upstream: a polling source wrapped to count every request by outcome. */
import type { PollResult } from "../core/observation.js";
import { ErrorCode, HttpError, RoomWatcherError } from "../errors.js";
import type { PollingSource } from "../sources/source.js";
import type { GatewayMetrics, UpstreamOutcome } from "./metrics.js";

export class CountingSource implements PollingSource {
  readonly kind = "poll";
  readonly key: string;
  readonly #inner: PollingSource;
  readonly #metrics: GatewayMetrics;
  #requests = 0;

  constructor(inner: PollingSource, metrics: GatewayMetrics) {
    this.#inner = inner;
    this.#metrics = metrics;
    this.key = `gateway-upstream:${inner.key}`;
  }

  /** Upstream requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  async poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    this.#requests++;
    try {
      const result = await this.#inner.poll(roomId, options);
      this.#metrics.upstreamRequests.inc({ outcome: result.observation.kind === "not_found" ? "not_found" : "ok" });
      return result;
    } catch (error) {
      this.#metrics.upstreamRequests.inc({ outcome: options.signal.aborted ? "aborted" : outcomeOf(error) });
      throw error;
    }
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
