/**
 * For game-server code: tell a gateway "room X is ready" the moment the server binds its port. The
 * gateway then looks upstream at once instead of at its next poll. One request by default: a lost hint
 * costs nothing but the head start, because polling still does the whole job. With `retries`, a
 * transient failure (the gateway restarting: refused, 503 while it drains, a time-out) is tried again
 * through p-retry, which owns the waiting (exponential, randomised) and stops on the caller's signal;
 * a refusal that would repeat (401, 404) is not retried.
 */
import pRetry from "p-retry";
import { type Clock, systemClock } from "../core/clock.js";
import { redact } from "../core/redact.js";
import { requestDeadline } from "../core/request-deadline.js";
import { ConfigError, HttpError, NetworkError, RequestTimeoutError, RoomWatcherError } from "../core/errors.js";
import { validateDurationMs, validateRoomId, validateToken } from "../core/validate.js";
import { HINT_PATH_PREFIX } from "../protocol/hints.js";

export const DEFAULT_HINT_TIMEOUT_MS = 5_000;
/** The first wait before a retry; each later one doubles (randomised by p-retry). */
export const DEFAULT_HINT_INITIAL_RETRY_DELAY_MS = 200;

export interface ReadyHintOptions {
  /** The gateway's URL: its ws:// (or wss://) URL as printed, or the http(s):// origin. */
  gatewayUrl: string;
  /** The room that is ready. */
  roomId: string;
  /** The gateway's hint token (not a client token). Never logged or put in an error. */
  token: string;
  /** Give up on one attempt after this long. Default 5,000 ms. */
  timeoutMs?: number | undefined;
  /** Attempts after the first, for transient failures only. Default 0 (one request). */
  retries?: number | undefined;
  /** The wait before the first retry; later ones double, randomised. Default 200 ms. */
  initialRetryDelayMs?: number | undefined;
  /** Aborting it rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** The fetch to use. Default the global fetch. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Time source for the timeout. Default the system clock. */
  clock?: Clock | undefined;
}

/**
 * Sends a readiness hint. Resolves once the gateway has accepted it (it looks upstream now). Rejects with HttpError (401 bad token, 404 room not watched or hints
 * disabled), NetworkError, RequestTimeoutError (the last attempt's error, with `retries`), or `signal.reason`.
 */
export async function sendReadyHint(options: ReadyHintOptions): Promise<void> {
  const roomId = validateRoomId(options.roomId);
  const timeoutMs = validateDurationMs("timeoutMs", options.timeoutMs ?? DEFAULT_HINT_TIMEOUT_MS, { allowZero: false });
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new ConfigError(`retries must be a non-negative integer, got ${String(retries)}`);
  const minTimeout = validateDurationMs("initialRetryDelayMs", options.initialRetryDelayMs ?? DEFAULT_HINT_INITIAL_RETRY_DELAY_MS);
  const token = validateToken("token", options.token);
  const url = hintUrl(options.gatewayUrl, roomId);
  const clock = options.clock ?? systemClock;
  options.signal?.throwIfAborted();
  const attempt = (): Promise<void> => postHint(url, token, timeoutMs, clock, options);
  if (retries === 0) return attempt();
  await pRetry(attempt, { retries, minTimeout, factor: 2, randomize: true, signal: options.signal, shouldRetry: ({ error }) => isTransient(error) });
}

/** Worth another attempt: the gateway may answer next time (network, time-out, 5xx); a 4xx would repeat. */
function isTransient(error: unknown): boolean {
  return error instanceof RoomWatcherError && error.retryable;
}

/** One POST of the hint, with its own deadline. */
async function postHint(url: string, token: string, timeoutMs: number, clock: Clock, options: ReadyHintOptions): Promise<void> {
  const deadline = requestDeadline(options.signal, timeoutMs, clock, () => new RequestTimeoutError(timeoutMs));
  try {
    let response: Response;
    let text: string;
    try {
      response = await (options.fetch ?? globalThis.fetch)(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        signal: deadline.signal,
        redirect: "error",
      });
      text = await response.text();
    } catch (error) {
      deadline.throwIfAborted();
      throw new NetworkError(`hint request failed: ${redact(error instanceof Error ? error.message : String(error), token)}`, { cause: error });
    }
    if (response.status !== 202) throw new HttpError(response.status, redact(messageOf(text) ?? "", token) || undefined);
  } finally {
    deadline.dispose();
  }
}

function hintUrl(gatewayUrl: string, roomId: string): string {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    throw new ConfigError(`invalid gateway URL ${JSON.stringify(gatewayUrl).slice(0, 200)}`);
  }
  const protocol = { "ws:": "http:", "wss:": "https:", "http:": "http:", "https:": "https:" }[url.protocol];
  if (protocol === undefined) throw new ConfigError(`gateway URL must be ws(s) or http(s), not ${url.protocol}`);
  if (url.username !== "" || url.password !== "") throw new ConfigError("gateway URL must not carry credentials; pass token instead");
  return `${protocol}//${url.host}${HINT_PATH_PREFIX}${encodeURIComponent(roomId)}`;
}

function messageOf(text: string): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown> | null)?.message;
    return typeof value === "string" ? value.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
