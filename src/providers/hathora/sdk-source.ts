/**
 * A polling source on the official SDK: for users who already hold a `HathoraCloud` client
 * (`@hathora/cloud-sdk-typescript`, an optional peer dependency). One call is one request: the SDK's
 * own retries are switched off so the watcher's backoff, Retry-After handling and deadline stay in
 * charge. We call the SDK's standalone function rather than `client.roomsV2.getConnectionInfo`: the
 * method form leaves a derived promise unhandled when the request throws instead of returning an
 * error result (a 200 body that is not JSON, an abort while reading the body), which would surface
 * as an unhandled rejection in the caller's process. The SDK validates the body with its own schema; we parse its result again with ours, so a
 * room looks the same whichever source saw it.
 *
 * Imported only from `room-watcher/sdk`, so the main entry never needs the SDK.
 */
import type { HathoraCloudCore } from "@hathora/cloud-sdk-typescript/core.js";
import { roomsV2GetConnectionInfo } from "@hathora/cloud-sdk-typescript/funcs/roomsV2GetConnectionInfo.js";
import {
  HathoraCloudError,
  HTTPClientError,
  InvalidRequestError,
  RequestTimeoutError as SdkRequestTimeoutError,
  SDKValidationError,
} from "@hathora/cloud-sdk-typescript/models/errors/index.js";
import { parseRetryAfterMs } from "../../core/backoff.js";
import { type Clock, systemClock } from "../../core/clock.js";
import type { PollResult } from "../../core/observation.js";
import { identities } from "../../core/identity.js";
import { redact } from "../../core/redact.js";
import { requestDeadline } from "../../core/request-deadline.js";
import {
  ConfigError,
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
  RoomWatcherError,
} from "../../core/errors.js";
import { apiErrorMessage, parseConnectionInfoV2 } from "./parse.js";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./http-source.js";
import type { PollingSource } from "../../core/source.js";
import { validateHathoraId } from "./schemas.js";
import { validateDurationMs, validateToken } from "../../core/validate.js";

export interface HathoraSdkSourceOptions {
  /** The SDK client (`HathoraCloud` or `HathoraCloudCore`); its server URL, HTTP client and hooks are used as they are. */
  client: HathoraCloudCore;
  /** The application id. Default the client's `appId`; one of the two is required. */
  appId?: string | undefined;
  /** Abort one request after this long. Default 10,000 ms. */
  requestTimeoutMs?: number | undefined;
  /** Time source for the request timeout and Retry-After dates. Default the system clock. */
  clock?: Clock | undefined;
}

/** The client an SDK source calls through, named for its key. */
const clientIdentity = identities("client");

/** Polls `GET /rooms/v2/{appId}/connectioninfo/{roomId}` through `client.roomsV2.getConnectionInfo`. */
export class HathoraSdkSource implements PollingSource {
  /** A polling source. */
  readonly kind = "poll";
  /** Watches through the same client and app share one poll; the key names no URL or token. */
  readonly key: string;
  /** The application id every call is made for. */
  readonly appId: string;
  /** One request is aborted after this long. Default 10,000 ms. */
  readonly requestTimeoutMs: number;
  readonly #client: HathoraCloudCore;
  readonly #clock: Clock;

  constructor(options: HathoraSdkSourceOptions) {
    if (typeof options.client?._createRequest !== "function") {
      throw new ConfigError("client must be a HathoraCloud (or HathoraCloudCore) client from @hathora/cloud-sdk-typescript");
    }
    const appId = options.appId ?? options.client._options.appId;
    if (appId === undefined) throw new ConfigError("appId is required: pass it, or create the HathoraCloud client with an appId");
    this.appId = validateHathoraId("app id", appId);
    // A token given as a function is only known per request; one given as a string is checked now.
    const token = options.client._options.hathoraDevToken;
    if (typeof token === "string" && token !== "") validateToken("the client's hathoraDevToken", token);
    this.requestTimeoutMs = validateDurationMs("requestTimeoutMs", options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, { allowZero: false });
    this.#client = options.client;
    this.#clock = options.clock ?? systemClock;
    this.key = `hathora-sdk:${this.appId}:${clientIdentity(options.client)}`;
  }

  /** One look at the room. Throws RoomWatcherError (retryable or not); rejects with `signal.reason` on abort. */
  checkRoomId(roomId: string): void {
    validateHathoraId("room id", roomId);
  }

  async poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    validateHathoraId("room id", roomId);
    const { signal } = options;
    signal.throwIfAborted();
    const deadline = requestDeadline(signal, this.requestTimeoutMs, this.#clock, () => new RequestTimeoutError(this.requestTimeoutMs));
    try {
      const call = roomsV2GetConnectionInfo(this.#client, roomId, this.appId, {
        signal: deadline.signal,
        retries: { strategy: "none" },
      });
      // The APIPromise keeps an unwrapped copy of the call that nobody else listens to; settle it here.
      call.catch(() => undefined);
      const [result] = await call.$inspect();
      if (!result.ok) throw result.error;
      // An upstream that echoes the token into a field would carry it into our warnings and errors.
      return parseConnectionInfoV2(redactStrings(result.value, this.#token()), roomId);
    } catch (error) {
      deadline.throwIfAborted();
      if (error instanceof HathoraCloudError) return this.#fromStatus(error);
      throw this.#failure(error);
    } finally {
      deadline.dispose();
    }
  }

  /** An answer with a status the SDK would not turn into a ConnectionInfoV2. */
  #fromStatus(error: HathoraCloudError): PollResult {
    const status = error.statusCode;
    if (status === 404) return { observation: { kind: "not_found" }, warnings: [] };
    // A 2xx the SDK could not read (not JSON, wrong shape) is a bad body, not an HTTP error.
    const token = this.#token();
    if (status >= 200 && status < 300) {
      const firstLine = redact(error.message.split("\n")[0] ?? "", token);
      throw new InvalidPayloadError(`connection info could not be read by the SDK: ${firstLine}`.slice(0, 500), { cause: safeCause(error, token) });
    }
    // Redacted before the 500-character cut, so no piece of the token survives it either.
    const message = apiErrorMessage(redact(error.body, token));
    if (status === 429) throw new RateLimitedError(parseRetryAfterMs(error.headers.get("retry-after"), this.#clock.now()), message);
    throw new HttpError(status, message, { cause: safeCause(error, token) });
  }

  /** No answer (or no request): the SDK's client errors onto ours. */
  #failure(error: unknown): unknown {
    if (error instanceof RoomWatcherError) return error;
    const token = this.#token();
    // The SDK parses a 200 body with JSON.parse and lets its SyntaxError through (its message quotes the body).
    if (error instanceof SyntaxError) return new InvalidPayloadError("response body is not valid JSON", { cause: safeCause(error, token) });
    if (error instanceof InvalidRequestError || error instanceof SDKValidationError) {
      return new ConfigError(`the SDK refused the request: ${redact(error.message, token)}`, { cause: safeCause(error, token) });
    }
    if (error instanceof SdkRequestTimeoutError) return new RequestTimeoutError(this.requestTimeoutMs);
    // ConnectionError, RequestAbortedError (an abort that was not ours), UnexpectedClientError.
    if (error instanceof HTTPClientError) return new NetworkError(`request failed: ${redact(error.message, token)}`, { cause: safeCause(error, token) });
    return error;
  }

  #token(): string | undefined {
    const token = this.#client._options.hathoraDevToken;
    return typeof token === "string" && token !== "" ? token : undefined;
  }
}

/**
 * The SDK's error as a cause that is safe to log: its name and message with the token removed. Not
 * the error itself: it carries the response body, headers and raw Response, where an upstream may
 * have echoed the token.
 */
function safeCause(error: Error, token: string | undefined): Error {
  const cause = new Error(redact(error.message, token));
  cause.name = error.name;
  return cause;
}

/** `value` with the token removed from every string in it (a parsed JSON body: plain objects and arrays). */
function redactStrings(value: unknown, token: string | undefined): unknown {
  if (token === undefined) return value;
  if (typeof value === "string") return redact(value, token);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, token));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item, token)]));
  }
  return value;
}
