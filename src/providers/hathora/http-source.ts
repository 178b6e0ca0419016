/**
 * Polls Hathora's rooms API (or anything that speaks it): GET connection info, v2 by default.
 * One call is one request: retries, backoff and scheduling belong to the watcher.
 */
import type { PollResult } from "../../core/observation.js";
import { type Clock, systemClock } from "../../core/clock.js";
import { identities } from "../../core/identity.js";
import { httpGet, jsonBodyOf, statusFailure, type HttpAnswer } from "../../core/http-get.js";
import type { SourceTarget } from "../../core/evidence.js";
import { apiErrorMessage, parseConnectionInfoV1, parseConnectionInfoV2 } from "./parse.js";
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
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const answer = await httpGet({
      url: this.urlOf(roomId),
      headers,
      fetch: this.#fetch,
      timeoutMs: this.requestTimeoutMs,
      maxResponseBytes: this.#maxResponseBytes,
      clock: this.#clock,
      signal: options.signal,
      secret: this.#token,
    });
    return this.#interpret(answer, roomId);
  }

  #interpret(answer: HttpAnswer, roomId: string): PollResult {
    const { html } = answer;
    if (answer.status === 200) {
      const body = jsonBodyOf(answer, NOT_THE_API);
      return this.apiVersion === "v1" ? parseConnectionInfoV1(body, roomId) : parseConnectionInfoV2(body, roomId);
    }
    const message = apiErrorMessage(answer.text);
    // Hathora answers errors with a JSON {"message"}; anything else came from something in front of it, or
    // from another server. Still a 404 (the body of a destroyed room's 404 is not documented), with a hint.
    const hint = message === undefined ? (html ? NOT_THE_API : NOT_AN_API_ERROR) : undefined;
    if (answer.status === 404) return { observation: { kind: "not_found" }, warnings: [], hint };
    throw statusFailure(answer, message, this.#clock.now(), html ? NOT_THE_API : undefined);
  }
}

const NOT_THE_API = "an HTML page answered, not the rooms API: is the base URL right?";
const NOT_AN_API_ERROR = "the answer had no JSON error body as the rooms API sends: is the base URL right?";
