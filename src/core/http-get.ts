/**
 * One GET of a JSON API, as every polling source makes it: a per-request deadline (on the injected clock),
 * no redirects, a body size limit, network failures as typed errors with a hint, and the caller's secret
 * removed from the body before anything reads it. What the answer means belongs to the source.
 */
import type { Clock } from "./clock.js";
import { parseRetryAfterMs } from "./backoff.js";
import { HttpError, InvalidPayloadError, NetworkError, RateLimitedError, RequestTimeoutError, RoomWatcherError } from "./errors.js";
import { redact } from "./redact.js";
import { requestDeadline } from "./request-deadline.js";
import { parseJson } from "./wire-json.js";

export interface HttpGetRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The fetch to call; undefined for the global one (looked up per call, so a stub installed later applies). */
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Removed from the body and from network error messages: an upstream or a proxy may echo it. */
  readonly secret: string | undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The body, with the secret redacted. */
  readonly text: string;
  /** Whether the body is an HTML page (a proxy's or a web server's, never a JSON API's). */
  readonly html: boolean;
}

/** GETs `request.url`. Rejects with `signal.reason` on abort, RequestTimeoutError, NetworkError or InvalidPayloadError (too large). */
export async function httpGet(request: HttpGetRequest): Promise<HttpAnswer> {
  const { signal, secret } = request;
  signal.throwIfAborted();
  const deadline = requestDeadline(signal, request.timeoutMs, request.clock, () => new RequestTimeoutError(request.timeoutMs));
  try {
    const fetchFn = request.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await fetchFn(request.url, { headers: { ...request.headers }, signal: deadline.signal, redirect: "error" });
    } catch (error) {
      deadline.throwIfAborted();
      throw networkFailure(error, secret);
    }
    let text: string;
    try {
      // An upstream (or a proxy) may echo the credentials it got, in an error or anywhere in a body:
      // removed before anything is parsed, so no message, warning, event or cut of one can carry it.
      text = redact(await readLimited(response, request.maxResponseBytes), secret);
    } catch (error) {
      deadline.throwIfAborted();
      throw networkFailure(error, secret);
    }
    return { status: response.status, headers: response.headers, text, html: isHtml(response.headers, text) };
  } finally {
    deadline.dispose();
  }
}

/**
 * The error for a status no source reads as an observation: RateLimitedError for a 429 (its Retry-After,
 * if any, read against `nowMs`), else HttpError (retryable for 408 and 5xx).
 */
export function statusFailure(answer: HttpAnswer, apiMessage: string | undefined, nowMs: number, hint?: string): RoomWatcherError {
  if (answer.status === 429) return new RateLimitedError(parseRetryAfterMs(answer.headers.get("retry-after"), nowMs), apiMessage);
  return new HttpError(answer.status, apiMessage, hint === undefined ? {} : { hint });
}

function isHtml(headers: Headers, text: string): boolean {
  return /\bhtml\b/i.test(headers.get("content-type") ?? "") || /^\s*</.test(text);
}

/** Anything but an abort (see throwIfAborted) becomes a typed error. */
function networkFailure(error: unknown, secret: string | undefined): unknown {
  if (error instanceof RoomWatcherError) return error;
  return new NetworkError(`request failed: ${redact(describe(error), secret)}`, { cause: error, hint: networkHint(error) });
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

/** A 200's body as JSON; an HTML page (a proxy's, a wrong host's) is an InvalidPayloadError with `notTheApi` as its hint. */
export function jsonBodyOf(answer: HttpAnswer, notTheApi: string): unknown {
  if (answer.html) throw new InvalidPayloadError("response body is an HTML page, not JSON", { hint: notTheApi });
  return parseJson(answer.text);
}
