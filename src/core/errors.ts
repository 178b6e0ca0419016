/**
 * One error hierarchy for everything room-watcher reports. Every error has a `code` (prefix `RW_`),
 * says whether trying again can help (`retryable`), and keeps what caused it in `cause`.
 * Messages never contain tokens: nothing here is built from request headers.
 */
import { describeEvidence, type WatchEvidence } from "./evidence.js";

export const ErrorCode = {
  /** An option or argument is invalid (bad base URL, room id, negative duration, ...). */
  INVALID_CONFIG: "RW_INVALID_CONFIG",
  /** A response body does not match the documented wire shape; `cause` holds the zod issues. */
  INVALID_PAYLOAD: "RW_INVALID_PAYLOAD",
  /** The upstream answered an HTTP error status; see `status`. */
  HTTP: "RW_HTTP",
  /** The upstream answered 429; `retryAfterMs` holds its Retry-After, when it sent one. */
  RATE_LIMITED: "RW_RATE_LIMITED",
  /** The request never got an answer: connection refused, reset or dropped. */
  NETWORK: "RW_NETWORK",
  /** One request took longer than `requestTimeoutMs`. */
  REQUEST_TIMEOUT: "RW_REQUEST_TIMEOUT",
  /** The room ended before it became active; `reason` says how. */
  ROOM_TERMINATED: "RW_ROOM_TERMINATED",
  /** The room did not become active within the deadline. */
  TIMEOUT: "RW_TIMEOUT",
  /** A room-watcher gateway refused us, the connection to it broke, or its upstream failed a room; `reason` says which. */
  GATEWAY: "RW_GATEWAY",
  /** A gateway in shared mode could not reach or use its Redis. */
  CLUSTER: "RW_CLUSTER",
  /** A ready room has no port of the name the source was told to connect players to (an Edgegap port name, say). */
  UNKNOWN_PORT: "RW_UNKNOWN_PORT",
  /** A webhook call was refused: a wrong secret in its path, or a body that names no deployment; `reason` says which. */
  WEBHOOK: "RW_WEBHOOK",
  /** A method was called in a state that does not allow it (a gateway's `listen()` twice, or after `close()`). */
  INVALID_STATE: "RW_INVALID_STATE",
  /** The upstream refused our credentials (401) or their rights (403, a missing RBAC verb); `verb` and `resource` say which. */
  ACCESS_DENIED: "RW_ACCESS_DENIED",
  /** A room ticket was refused: malformed, too large, forged, signed with an unknown key, or expired; `reason` says which. */
  TICKET: "RW_TICKET",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface RoomWatcherErrorOptions {
  cause?: unknown;
  retryable?: boolean | undefined;
  /** What to check when this points at a misconfiguration ("is the base URL right?"). */
  hint?: string | undefined;
}

/** Base class of every error room-watcher raises. */
export class RoomWatcherError extends Error {
  readonly code: ErrorCode;
  /** Whether the same call may succeed if tried again later. */
  readonly retryable: boolean;
  /** What to check when the error points at a misconfiguration; also the end of `message`. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: RoomWatcherErrorOptions = {}) {
    super(options.hint === undefined ? message : `${message} (${options.hint})`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }
}

export class ConfigError extends RoomWatcherError {
  constructor(message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.INVALID_CONFIG, message, { ...options, retryable: false });
  }
}

/** A body that breaks the documented shape. Retryable: a proxy can garble one answer and not the next. */
export class InvalidPayloadError extends RoomWatcherError {
  constructor(message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.INVALID_PAYLOAD, message, { retryable: true, ...options });
  }
}

/** Statuses where asking again can succeed: timeouts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class HttpError extends RoomWatcherError {
  readonly status: number;
  /** The ApiError `message` from the body, when the body had one. */
  readonly apiMessage: string | undefined;

  constructor(status: number, apiMessage: string | undefined, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.HTTP, `HTTP ${status}${apiMessage ? `: ${apiMessage}` : ""}`, {
      retryable: isRetryableStatus(status),
      ...options,
    });
    this.status = status;
    this.apiMessage = apiMessage;
  }
}

export class RateLimitedError extends RoomWatcherError {
  readonly status = 429;
  /** How long the server asked us to wait, already capped; undefined when it sent no Retry-After. */
  readonly retryAfterMs: number | undefined;

  constructor(retryAfterMs: number | undefined, apiMessage: string | undefined) {
    super(
      ErrorCode.RATE_LIMITED,
      `HTTP 429: rate limited${retryAfterMs === undefined ? "" : `, retry after ${retryAfterMs} ms`}${apiMessage ? ` (${apiMessage})` : ""}`,
      { retryable: true },
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A ready room has no port named `portName`: the name is wrong for this app, and asking again will not
 * add it. Not retryable; `available` lists the names it does have.
 */
export class UnknownPortError extends RoomWatcherError {
  readonly portName: string;
  readonly available: readonly string[];

  /** `what`: the room as its host names it ("GameServer gs-1", "the deployment"), for the message. */
  constructor(portName: string, available: readonly string[], what = "the room") {
    const names = available.length === 0 ? "it has none" : `it has ${available.map((n) => JSON.stringify(n)).join(", ")}`;
    super(ErrorCode.UNKNOWN_PORT, `${what} has no port named ${JSON.stringify(portName)} (${names})`, { retryable: false, hint: "is the port name (--port-name) right?" });
    this.portName = portName;
    this.available = Object.freeze([...available]);
  }
}

export class NetworkError extends RoomWatcherError {
  constructor(message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.NETWORK, message, { retryable: true, ...options });
  }
}

export class RequestTimeoutError extends RoomWatcherError {
  constructor(timeoutMs: number) {
    super(ErrorCode.REQUEST_TIMEOUT, `request took longer than ${timeoutMs} ms`, { retryable: true });
  }
}

/** The message's tail that says what the watch saw, when there is evidence. */
function seen(evidence: WatchEvidence | undefined): string {
  return evidence === undefined ? "" : `: ${describeEvidence(evidence)}`;
}

/** The room did not become active in time. `evidence` says whether the upstream was ever reached, and what failed. */
export class WaitTimeoutError extends RoomWatcherError {
  readonly roomId: string;
  readonly timeoutMs: number;
  readonly evidence: WatchEvidence | undefined;

  constructor(roomId: string, timeoutMs: number, evidence?: WatchEvidence) {
    super(ErrorCode.TIMEOUT, `room ${roomId} did not become active within ${timeoutMs} ms${seen(evidence)}`, { cause: evidence?.lastError });
    this.roomId = roomId;
    this.timeoutMs = timeoutMs;
    this.evidence = evidence;
  }
}

/** waitForActive: the room ended before it became active. `evidence` says where the watch looked and what it saw. */
export class RoomTerminatedError extends RoomWatcherError {
  readonly roomId: string;
  /** How it ended: what the host said (destroyed, shutdown, error, deleted, ...), not_found, stopped or failed. */
  readonly reason: string;
  readonly evidence: WatchEvidence | undefined;
  /** The host's own word for the state the room ended in, when it gave one. */
  readonly hostState: string | undefined;
  /** What the host said went wrong, when it said. */
  readonly detail: string | undefined;

  constructor(roomId: string, reason: string, cause: unknown, evidence?: WatchEvidence, words: { hostState?: string | undefined; detail?: string | undefined } = {}) {
    // The evidence names its last error already: say it once.
    const why = cause instanceof Error && cause !== evidence?.lastError ? ` (${cause.message})` : "";
    super(ErrorCode.ROOM_TERMINATED, `room ${roomId} terminated before it became active: ${reason}${hostWords(words)}${why}${seen(evidence)}`, { cause });
    this.roomId = roomId;
    this.reason = reason;
    this.evidence = evidence;
    this.hostState = words.hostState;
    this.detail = words.detail;
  }
}

/** " (host state Shutdown: detail)", or nothing when the host said nothing of its own. */
function hostWords({ hostState, detail }: { hostState?: string | undefined; detail?: string | undefined }): string {
  const words = [hostState === undefined ? undefined : `host state ${hostState}`, detail].filter((w) => w !== undefined && w !== "");
  return words.length === 0 ? "" : ` (${words.join(": ")})`;
}

/** Why a gateway (or the WebSocket source talking to one) gave up. */
export type GatewayErrorReason =
  /** The gateway refused the client's token (close code 4401). Not retried: the same token is refused again. */
  | "unauthorized"
  /**
   * The gateway closed the connection for what this client sent: a protocol violation (4400), unsupported data
   * (1003), a message too big (1009). Not retried: the same client would be closed the same way again.
   */
  | "rejected"
  /** The connection to the gateway was lost or could not be made. */
  | "connection"
  /** The gateway refused a subscription (too many on one connection, or a room the ticket does not name). */
  | "refused"
  /**
   * The gateway refused our room ticket (close code 4403): forged, malformed, signed with a key it no longer
   * has, or not accepted there. Not retried: mint a new ticket.
   */
  | "ticket_refused"
  /** Our room ticket had expired when we connected (close code 4410). Not retried: mint a new ticket. */
  | "ticket_expired"
  /** The gateway's upstream failed: a transient failure it retries (retryable), or a terminal one that ended the room. */
  | "upstream";

/** A gateway problem. Retryable when reconnecting can help (`connection`). */
export class GatewayError extends RoomWatcherError {
  readonly reason: GatewayErrorReason;
  /** The WebSocket close code, when a close caused it. */
  readonly closeCode: number | undefined;

  constructor(reason: GatewayErrorReason, message: string, options: RoomWatcherErrorOptions & { closeCode?: number | undefined } = {}) {
    super(ErrorCode.GATEWAY, message, { retryable: reason === "connection", ...options });
    this.reason = reason;
    this.closeCode = options.closeCode;
  }
}

/**
 * A gateway in shared mode could not reach or use its Redis (at start: the gateway does not start).
 * Retryable: Redis may be back later. Messages never carry the Redis URL's password.
 */
export class ClusterError extends RoomWatcherError {
  constructor(message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.CLUSTER, message, { retryable: true, ...options });
  }
}

/** Why a webhook call was refused. */
export type WebhookErrorReason =
  /** The secret in its path is not the one the webhook URLs were built with (a forged or stale URL). */
  | "bad_secret"
  /** The path is not a webhook path, or names an event there is no webhook for. */
  | "bad_path"
  /** The body is not JSON, or names no deployment. */
  | "bad_body";

/** A webhook call that can never be a hint (it never reaches the upstream). Not retryable: the same call is refused again. */
export class WebhookError extends RoomWatcherError {
  readonly reason: WebhookErrorReason;

  constructor(reason: WebhookErrorReason, message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.WEBHOOK, message, { ...options, retryable: false });
    this.reason = reason;
  }
}

/** A method was called in a state that does not allow it; the message names the method and the state. Not retryable. */
export class InvalidStateError extends RoomWatcherError {
  constructor(message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.INVALID_STATE, message, { ...options, retryable: false });
  }
}

/**
 * The upstream refused us: 401 (the credentials are not accepted) or 403 (they lack a right, such as a
 * Kubernetes RBAC verb). Not retryable: the same credentials are refused again. The message names the
 * verb and resource, never the credentials.
 */
export class AccessDeniedError extends RoomWatcherError {
  readonly status: number;
  /** What we tried to do (`list`, `watch`, `get`). */
  readonly verb: string;
  /** What we tried to do it on (`gameservers.agones.dev` in namespace `default`). */
  readonly resource: string;

  constructor(status: number, verb: string, resource: string, apiMessage: string | undefined, options: RoomWatcherErrorOptions = {}) {
    const what = status === 401 ? "the credentials were not accepted" : `the credentials lack the "${verb}" right`;
    super(ErrorCode.ACCESS_DENIED, `HTTP ${status}: ${what} (${verb} ${resource})${apiMessage ? `: ${apiMessage}` : ""}`, { ...options, retryable: false });
    this.status = status;
    this.verb = verb;
    this.resource = resource;
  }
}

/** Why a room ticket was refused (see src/gateway/ticket.ts). */
export type TicketErrorReason =
  /** Not `base64url(payload).base64url(signature)`, or a payload that is not a ticket's. */
  | "malformed"
  /** Longer than MAX_TICKET_CHARS: refused before it is decoded. */
  | "oversized"
  /** The signature is not the one its key makes: forged, altered or truncated. */
  | "bad_signature"
  /** Signed with a key id the verifier does not hold (a key rotated out, or made up). */
  | "unknown_key"
  /** Its expiry, plus the clock-skew allowance, has passed. */
  | "expired"
  /** Its expiry is further ahead than any ticket may live (MAX_TICKET_TTL_MS, plus the allowance). */
  | "too_long_lived";

/**
 * A room ticket that cannot be used: `reason` says why. Never retryable (the same ticket is refused
 * again: mint another). Its message never contains the ticket or a secret.
 */
export class TicketError extends RoomWatcherError {
  readonly reason: TicketErrorReason;

  constructor(reason: TicketErrorReason, message: string, options: RoomWatcherErrorOptions = {}) {
    super(ErrorCode.TICKET, message, { ...options, retryable: false });
    this.reason = reason;
  }
}
