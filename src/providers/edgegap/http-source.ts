/**
 * Polls Edgegap's deployment status: `GET /v1/status/{request_id}` with `Authorization: token <key>`.
 * A room is a deployment and its id is the request id. One call is one request: retries, backoff,
 * the request budget and scheduling belong to the watcher and its fleet.
 */
import { type Clock, systemClock } from "../../core/clock.js";
import { ConfigError } from "../../core/errors.js";
import type { SourceTarget } from "../../core/evidence.js";
import { assertFetchablePort } from "../../core/fetch-ports.js";
import { httpGet, jsonBodyOf, statusFailure, type HttpAnswer } from "../../core/http-get.js";
import { identities } from "../../core/identity.js";
import type { PollResult } from "../../core/observation.js";
import type { PollingSource, RequestBudget } from "../../core/source.js";
import { validateBaseUrl, validateDurationMs, validateToken } from "../../core/validate.js";
import { apiErrorMessage } from "../../core/wire-json.js";
import { parseDeploymentStatus, type EdgegapHostField } from "./parse.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND } from "./rate-limits.js";
import { validateRequestId } from "./schemas.js";

export const EDGEGAP_DEFAULT_BASE_URL = "https://api.edgegap.com";
export const EDGEGAP_DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const EDGEGAP_DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface EdgegapSourceOptions {
  /** The organisation's API token, with or without its `token ` prefix. Required. Never logged. */
  token: string;
  /** The app version's port players connect to (a key of the status body's `ports`). Required. */
  portName: string;
  /** Which address players get: the deployment's `fqdn` or its `public_ip`. Default `"fqdn"`. */
  hostField?: EdgegapHostField | undefined;
  /** API origin (and optional path prefix). Default `https://api.edgegap.com`. */
  baseUrl?: string | undefined;
  /** The fetch to use. Default the global fetch. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Abort one request after this long. Default 10,000 ms. */
  requestTimeoutMs?: number | undefined;
  /** Larger bodies are refused as invalid payloads. Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** Time source for the request timeout and Retry-After dates. Default the system clock. */
  clock?: Clock | undefined;
  /**
   * Status requests per second a fleet starts through this source and every other one with the same base
   * URL and token (one organisation), whatever the fleet's own budget. Default 16, under Edgegap's 20/s
   * (`EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND`); with several processes on one token,
   * `edgegapRequestsPerSecondPerProcess(n)`.
   */
  maxRequestsPerSecond?: number | undefined;
}

/** The fetch an HTTP source calls through, named for its key. */
const fetchIdentity = identities("fetch");

/**
 * Tokens named for keys without showing them: watches through two organisations' tokens must not share
 * a poll (each sees only its own deployments), and no key may carry a token.
 */
const tokenNumbers = new Map<string, number>();
function tokenIdentity(token: string): string {
  let n = tokenNumbers.get(token);
  if (n === undefined) tokenNumbers.set(token, (n = tokenNumbers.size + 1));
  return `token#${n}`;
}

/** A token as pasted: Edgegap's dashboard shows it with its `token ` scheme, which the header adds anyway. */
function bareToken(value: unknown): string {
  if (typeof value !== "string") return validateToken("token", value);
  return validateToken("token", value.replace(/^token +/i, ""));
}

export class EdgegapHttpSource implements PollingSource {
  readonly key: string;
  readonly baseUrl: string;
  readonly portName: string;
  readonly hostField: EdgegapHostField;
  readonly requestTimeoutMs: number;
  /** The organisation's status limit, shared in a fleet by every source on the same base URL and token. */
  readonly budget: RequestBudget;
  readonly #token: string;
  readonly #fetch: typeof globalThis.fetch | undefined;
  readonly #maxResponseBytes: number;
  readonly #clock: Clock;

  constructor(options: EdgegapSourceOptions) {
    if (options.token === undefined || options.token === "") {
      throw new ConfigError("token is required: Edgegap's status endpoint needs the organisation's API token");
    }
    this.#token = bareToken(options.token);
    if (typeof options.portName !== "string" || options.portName === "") {
      throw new ConfigError("portName is required: the app version's port players connect to");
    }
    this.portName = options.portName;
    const hostField = options.hostField ?? "fqdn";
    if (hostField !== "fqdn" && hostField !== "public_ip") {
      throw new ConfigError(`hostField must be "fqdn" or "public_ip", got ${JSON.stringify(String(hostField))}`);
    }
    this.hostField = hostField;
    this.baseUrl = validateBaseUrl(options.baseUrl ?? EDGEGAP_DEFAULT_BASE_URL);
    this.requestTimeoutMs = validateDurationMs("requestTimeoutMs", options.requestTimeoutMs ?? EDGEGAP_DEFAULT_REQUEST_TIMEOUT_MS, { allowZero: false });
    this.#maxResponseBytes = options.maxResponseBytes ?? EDGEGAP_DEFAULT_MAX_RESPONSE_BYTES;
    this.#fetch = options.fetch;
    this.#clock = options.clock ?? systemClock;
    // Only the global fetch is known to refuse them; a fetch of the caller's own may not.
    if (options.fetch === undefined) assertFetchablePort("baseUrl", this.baseUrl);
    const fetchName = options.fetch === undefined ? "global" : fetchIdentity(options.fetch);
    const organisation = `${this.baseUrl}:${tokenIdentity(this.#token)}`;
    this.key = `edgegap:${organisation}:${this.portName}:${this.hostField}:${fetchName}`;
    // The limit is the token's organisation's, whatever port, address field or fetch a source reads with.
    const maxRequestsPerSecond = options.maxRequestsPerSecond ?? EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND;
    if (!(maxRequestsPerSecond > 0)) throw new ConfigError(`maxRequestsPerSecond must be positive, got ${maxRequestsPerSecond}`);
    this.budget = Object.freeze({ key: `edgegap-status:${organisation}`, maxRequestsPerSecond });
  }

  checkRoomId(roomId: string): void {
    validateRequestId(roomId);
  }

  /** The status URL of a deployment, its request id validated and percent-encoded. */
  urlOf(requestId: string): string {
    validateRequestId(requestId);
    return `${this.baseUrl}/v1/status/${encodeURIComponent(requestId)}`;
  }

  target(requestId: string): SourceTarget {
    return { name: "the Edgegap API", url: this.urlOf(requestId) };
  }

  async poll(requestId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    const answer = await httpGet({
      url: this.urlOf(requestId),
      headers: { accept: "application/json", authorization: `token ${this.#token}` },
      fetch: this.#fetch,
      timeoutMs: this.requestTimeoutMs,
      maxResponseBytes: this.#maxResponseBytes,
      clock: this.#clock,
      signal: options.signal,
      secret: this.#token,
    });
    return this.#interpret(answer, requestId);
  }

  #interpret(answer: HttpAnswer, requestId: string): PollResult {
    const { html } = answer;
    if (answer.status === 200) {
      return parseDeploymentStatus(jsonBodyOf(answer, NOT_THE_API), { portName: this.portName, hostField: this.hostField, expectedRequestId: requestId });
    }
    const message = apiErrorMessage(answer.text);
    // The spec answers an unknown request id 404; Edgegap's own guide says the live API answers 400. Both
    // are "no such deployment", under the watch's not-found rules (a grace period, then the end).
    if (answer.status === 404 || answer.status === 400) {
      return { observation: { kind: "not_found" }, warnings: [], hint: message === undefined ? (html ? NOT_THE_API : NOT_AN_API_ERROR) : undefined };
    }
    const hint = answer.status === 401 || answer.status === 403 ? BAD_TOKEN : html ? NOT_THE_API : undefined;
    throw statusFailure(answer, message, this.#clock.now(), hint);
  }
}

const NOT_THE_API = "an HTML page answered, not the Edgegap API: is the base URL right?";
const NOT_AN_API_ERROR = "the answer had no JSON error body as the Edgegap API sends: is the base URL right?";
const BAD_TOKEN = "is the token right? Edgegap wants the organisation's API token";
