/**
 * Who may open a WebSocket connection to the gateway, decided in two stages and returned as a verdict;
 * the server does what the verdict says (writes the refusal, counts it, logs it).
 *
 * - At the handshake (an HTTP upgrade, refused with an HTTP status before any WebSocket exists): a
 *   draining gateway (503), an address locked out after too many failed authentications (429), a page
 *   of an origin not allowed (403), no `room-watcher.v1` subprotocol (400).
 * - Once connected (refused with a close code, which a WebSocket client can read where it cannot read a
 *   handshake's status): a draining gateway (1001, reconnect elsewhere), a missing or wrong client token
 *   (4401, fatal for the client), the connection limit (1013, try again later).
 */
import { GatewayCloseCode } from "../protocol/close-codes.js";
import { GATEWAY_SUBPROTOCOL } from "../protocol/messages.js";
import type { OriginPolicy } from "./origin.js";
import type { TokenCheck } from "./token.js";

/** The headers of an upgrade request the handshake stage reads. */
export interface HandshakeRequest {
  /** The `Origin` header. */
  readonly origin: string | undefined;
  /** The `Sec-WebSocket-Protocol` header: the offered subprotocols, comma-separated. */
  readonly protocols: string | undefined;
  /** The client's address has failed to authenticate too often lately. Default false. */
  readonly lockedOut?: boolean | undefined;
}

export interface RefusedHandshake {
  readonly ok: false;
  readonly cause: "draining" | "auth_lockout" | "origin" | "subprotocol";
  readonly status: 400 | 403 | 429 | 503;
  readonly message: string;
}

export type HandshakeVerdict = { readonly ok: true } | RefusedHandshake;

export type ConnectionVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly cause: "draining" | "unauthorized" | "connection_limit"; readonly code: GatewayCloseCode; readonly reason: string };

export interface AdmissionPolicy {
  /** Origins whose pages may connect; undefined: any. */
  readonly origins: OriginPolicy | undefined;
  /** The client token; undefined: no token needed. */
  readonly clientToken: TokenCheck | undefined;
  readonly maxConnections: number;
}

/** The handshake stage: whether the upgrade may become a WebSocket. */
export function admitHandshake(policy: AdmissionPolicy, request: HandshakeRequest, draining: boolean): HandshakeVerdict {
  if (draining) return { ok: false, cause: "draining", status: 503, message: "gateway shutting down" };
  if (request.lockedOut === true) return { ok: false, cause: "auth_lockout", status: 429, message: "too many failed authentications from this address; try again later" };
  if (policy.origins !== undefined && !policy.origins.allows(request.origin)) return { ok: false, cause: "origin", status: 403, message: "origin not allowed" };
  const offered = (request.protocols ?? "").split(",").map((p) => p.trim());
  if (!offered.includes(GATEWAY_SUBPROTOCOL)) return { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${GATEWAY_SUBPROTOCOL}` };
  return { ok: true };
}

/** The connection stage: whether a WebSocket just opened may stay, given its `Authorization` header and the connections open. */
export function admitConnection(policy: AdmissionPolicy, authorization: string | undefined, state: { readonly draining: boolean; readonly connections: number }): ConnectionVerdict {
  if (state.draining) return { ok: false, cause: "draining", code: GatewayCloseCode.GOING_AWAY, reason: "gateway shutting down" };
  if (policy.clientToken !== undefined && !policy.clientToken.matchesHeader(authorization)) {
    return { ok: false, cause: "unauthorized", code: GatewayCloseCode.UNAUTHORIZED, reason: "unauthorized" };
  }
  if (state.connections >= policy.maxConnections) return { ok: false, cause: "connection_limit", code: GatewayCloseCode.TRY_AGAIN_LATER, reason: "too many connections" };
  return { ok: true };
}

const STATUS_TEXT: Readonly<Record<RefusedHandshake["status"], string>> = {
  400: "Bad Request",
  403: "Forbidden",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/** The raw HTTP response that refuses an upgrade (no HTTP response object exists for one). */
export function handshakeRefusal(verdict: RefusedHandshake): string {
  const text = JSON.stringify({ message: verdict.message });
  return `HTTP/1.1 ${verdict.status} ${STATUS_TEXT[verdict.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;
}
