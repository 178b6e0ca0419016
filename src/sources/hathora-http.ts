/**
 * Polls Hathora's rooms API (or anything that speaks it): GET connection info, v2 by default.
 * One call is one request: retries, backoff and scheduling belong to the watcher.
 */
import type { PollResult } from "../core/observation.js";
import { type Clock, systemClock } from "../core/clock.js";
import { parseRetryAfterMs } from "../core/backoff.js";
import { identities } from "../core/identity.js";
import { redact } from "../core/redact.js";
import { requestDeadline } from "../core/request-deadline.js";
import {
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
  RoomWatcherError,
} from "../errors.js";
import { apiErrorMessage, parseConnectionInfoV1, parseConnectionInfoV2, parseJson } from "../wire/parse.js";
import type { PollingSource } from "./source.js";
import { validateAppId, validateBaseUrl, validateDurationMs, validateRoomId, validateToken } from "./validate.js";

export const DEFAULT_BASE_URL = "https://api.hathora.dev";
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface HathoraSourceOptions {
  /** The Hathora application id. */
  appId: string;
  /** API origin (and optional path prefix). Default `https://api.hathora.dev`. */
  baseUrl?: string | undefined;
  /** Bearer token. Connection info needs none; sent when given. Never logged. */
  token?: string | undefined;
  /** Which connection-info endpoint to call. Default `"v2"`. */
  apiVersion?: "v1" | "v2" | undefined;
  /** The fetch to use. Default the global fetch. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Abort one request after this long. Default 10,000 ms. */
  requestTimeoutMs?: number | undefined;
  /** Larger bodies are refused as invalid payloads. Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** Time source for the request timeout. Default the system clock. */
  clock?: Clock | undefined;
}

/** The fetch an HTTP source calls through, named for its key. */
const fetchIdentity = identities("fetch");

export class HathoraHttpSource implements PollingSource {
  readonly key: string;
  readonly baseUrl: string;
  readonly appId: string;
  readonly apiVersion: "v1" | "v2";
  readonly requestTimeoutMs: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof globalThis.fetch | undefined;
  readonly #maxResponseBytes: number;
  readonly #clock: Clock;

  constructor(options: HathoraSourceOptions) {
    this.appId = validateAppId(options.appId);
    this.baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.apiVersion = options.apiVersion ?? "v2";
    this.requestTimeoutMs = validateDurationMs("requestTimeoutMs", options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, { allowZero: false });
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#token = options.token === undefined || options.token === "" ? undefined : validateToken("token", options.token);
    this.#fetch = options.fetch;
    this.#clock = options.clock ?? systemClock;
    this.key = `hathora:${this.apiVersion}:${this.baseUrl}:${this.appId}:${options.fetch === undefined ? "global" : fetchIdentity(options.fetch)}`;
  }

  /** The connection-info URL of a room, path parameters validated and percent-encoded. */
  urlOf(roomId: string): string {
    validateRoomId(roomId);
    return `${this.baseUrl}/rooms/${this.apiVersion}/${encodeURIComponent(this.appId)}/connectioninfo/${encodeURIComponent(roomId)}`;
  }

  async poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    const url = this.urlOf(roomId);
    const { signal } = options;
    signal.throwIfAborted();
    const deadline = requestDeadline(signal, this.requestTimeoutMs, this.#clock, () => new RequestTimeoutError(this.requestTimeoutMs));
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
      const fetchFn = this.#fetch ?? globalThis.fetch;
      let response: Response;
      try {
        response = await fetchFn(url, { headers, signal: deadline.signal, redirect: "error" });
      } catch (error) {
        deadline.throwIfAborted();
        throw this.#failure(error);
      }
      let text: string;
      try {
        // An upstream (or a proxy) may echo the credentials it got, in an error or anywhere in a body:
        // removed before anything is parsed, so no message, warning, event or cut of one can carry it.
        text = redact(await readLimited(response, this.#maxResponseBytes), this.#token);
      } catch (error) {
        deadline.throwIfAborted();
        throw this.#failure(error);
      }
      return this.#interpret(response, text, roomId);
    } finally {
      deadline.dispose();
    }
  }

  #interpret(response: Response, text: string, roomId: string): PollResult {
    if (response.status === 200) {
      const body = parseJson(text);
      return this.apiVersion === "v1" ? parseConnectionInfoV1(body, roomId) : parseConnectionInfoV2(body, roomId);
    }
    if (response.status === 404) return { observation: { kind: "not_found" }, warnings: [] };
    const message = apiErrorMessage(text);
    if (response.status === 429) {
      throw new RateLimitedError(parseRetryAfterMs(response.headers.get("retry-after"), this.#clock.now()), message);
    }
    throw new HttpError(response.status, message);
  }

  /** Anything but an abort (see throwIfAborted) becomes a typed error. */
  #failure(error: unknown): unknown {
    if (error instanceof RoomWatcherError) return error;
    return new NetworkError(`request failed: ${redact(describe(error), this.#token)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** The body as text, refusing anything larger than `maxBytes` without reading it all. */
async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new InvalidPayloadError(`response body of ${declared} bytes exceeds the ${maxBytes}-byte limit`);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new InvalidPayloadError(`response body exceeds the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
