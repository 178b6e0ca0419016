/**
 * Polls Hathora's rooms API (or anything that speaks it): GET connection info, v2 by default.
 * One call is one request: retries, backoff and scheduling belong to the watcher.
 */
import type { PollResult } from "../../core/observation.js";
import { type Clock, systemClock } from "../../core/clock.js";
import { parseRetryAfterMs } from "../../core/backoff.js";
import { identities } from "../../core/identity.js";
import { redact } from "../../core/redact.js";
import { requestDeadline } from "../../core/request-deadline.js";
import {
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
  RoomWatcherError,
} from "../../core/errors.js";
import type { SourceTarget } from "../../core/evidence.js";
import { apiErrorMessage, parseConnectionInfoV1, parseConnectionInfoV2, parseJson } from "./parse.js";
import { assertFetchablePort } from "../../core/fetch-ports.js";
import type { PollingSource } from "../../core/source.js";
import { validateHathoraId } from "./schemas.js";
import { validateBaseUrl, validateDurationMs, validateToken } from "../../core/validate.js";

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
    this.appId = validateHathoraId("app id", options.appId);
    this.baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.apiVersion = options.apiVersion ?? "v2";
    this.requestTimeoutMs = validateDurationMs("requestTimeoutMs", options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, { allowZero: false });
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#token = options.token === undefined || options.token === "" ? undefined : validateToken("token", options.token);
    this.#fetch = options.fetch;
    this.#clock = options.clock ?? systemClock;
    // Only the global fetch is known to refuse them; a fetch of the caller's own may not.
    if (options.fetch === undefined) assertFetchablePort("baseUrl", this.baseUrl);
    this.key = `hathora:${this.apiVersion}:${this.baseUrl}:${this.appId}:${options.fetch === undefined ? "global" : fetchIdentity(options.fetch)}`;
  }

  checkRoomId(roomId: string): void {
    validateHathoraId("room id", roomId);
  }

  /** The connection-info URL of a room, path parameters validated and percent-encoded. */
  urlOf(roomId: string): string {
    validateHathoraId("room id", roomId);
    return `${this.baseUrl}/rooms/${this.apiVersion}/${encodeURIComponent(this.appId)}/connectioninfo/${encodeURIComponent(roomId)}`;
  }

  target(roomId: string): SourceTarget {
    return { name: "the rooms API", url: this.urlOf(roomId), app: this.appId };
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
    const html = isHtml(response, text);
    if (response.status === 200) {
      if (html) throw new InvalidPayloadError("response body is an HTML page, not JSON", { hint: NOT_THE_API });
      const body = parseJson(text);
      return this.apiVersion === "v1" ? parseConnectionInfoV1(body, roomId) : parseConnectionInfoV2(body, roomId);
    }
    const message = apiErrorMessage(text);
    // Hathora answers errors with a JSON {"message"}; anything else came from something in front of it, or
    // from another server. Still a 404 (the body of a destroyed room's 404 is not documented), with a hint.
    const hint = message === undefined ? (html ? NOT_THE_API : NOT_AN_API_ERROR) : undefined;
    if (response.status === 404) return { observation: { kind: "not_found" }, warnings: [], hint };
    if (response.status === 429) {
      throw new RateLimitedError(parseRetryAfterMs(response.headers.get("retry-after"), this.#clock.now()), message);
    }
    throw new HttpError(response.status, message, html ? { hint: NOT_THE_API } : {});
  }

  /** Anything but an abort (see throwIfAborted) becomes a typed error. */
  #failure(error: unknown): unknown {
    if (error instanceof RoomWatcherError) return error;
    return new NetworkError(`request failed: ${redact(describe(error), this.#token)}`, { cause: error, hint: networkHint(error) });
  }
}

const NOT_THE_API = "an HTML page answered, not the rooms API: is the base URL right?";
const NOT_AN_API_ERROR = "the answer had no JSON error body as the rooms API sends: is the base URL right?";

function isHtml(response: Response, text: string): boolean {
  return /\bhtml\b/i.test(response.headers.get("content-type") ?? "") || /^\s*</.test(text);
}

/** What a network error's system code says to check. */
const NETWORK_HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "nothing accepts connections at that host and port: is the base URL right, and the server up?",
  ENOTFOUND: "the host name does not resolve: is the base URL right?",
  EAI_AGAIN: "the host name could not be resolved (DNS did not answer)",
  ECONNRESET: "the server closed the connection",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host name",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate could not be verified",
};

function networkHint(error: unknown): string | undefined {
  const code = (error instanceof Error && error.cause instanceof Error ? (error.cause as { code?: unknown }).code : undefined) ?? undefined;
  return typeof code === "string" ? NETWORK_HINTS[code] : undefined;
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
  // TextDecoder rather than Buffer: this runs wherever fetch does.
  const decoder = new TextDecoder();
  let text = "";
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new InvalidPayloadError(`response body exceeds the ${maxBytes}-byte limit`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
