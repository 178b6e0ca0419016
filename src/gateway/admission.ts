/**
 * Who may open a WebSocket connection to the gateway, decided in two stages and returned as a verdict;
 * the server does what the verdict says (writes the refusal, counts it, logs it).
 *
 * - At the handshake (an HTTP upgrade, refused with an HTTP status before any WebSocket exists): a
 *   draining gateway (503), an address locked out after too many failed authentications (429), a page
 *   of an origin not allowed (403), no `room-watcher.v1` subprotocol (400).
 * - Once connected (refused with a close code, which a WebSocket client can read where it cannot read a
 *   handshake's status): a draining gateway (1001, reconnect elsewhere), a room ticket refused (4403, or
 *   4410 when it expired; a ticket in the URL is refused too), a missing or wrong client token (4401),
 *   the connection limit (1013, try again later). A client with a valid ticket is admitted to the rooms
 *   it names; with the client token (or at an open gateway), to any room.
 */
import { GatewayCloseCode } from "../protocol/close-codes.js";
import type { TicketErrorReason } from "../core/errors.js";
import { TicketError } from "../core/errors.js";
import { GATEWAY_SUBPROTOCOL } from "../protocol/messages.js";
import { offeredTicket } from "../protocol/ticket-format.js";
import type { OriginPolicy } from "./origin.js";
import { type TicketGrant, type TicketKeyring, verifyTicket } from "./ticket.js";
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

/**
 * Why a ticket was refused: what verifyTicket said, `in_url` (a `ticket` query parameter: URLs get
 * logged), `not_accepted` (the gateway has no ticket secret), `several` (more than one offered).
 */
export type TicketRefusal = TicketErrorReason | "in_url" | "not_accepted" | "several";

export type ConnectionVerdict =
  | {
      readonly ok: true;
      /** What the client's ticket grants: the only rooms it may subscribe to. Undefined: any room (token, or an open gateway). */
      readonly grant?: TicketGrant | undefined;
    }
  | { readonly ok: false; readonly cause: "draining" | "unauthorized" | "connection_limit"; readonly code: GatewayCloseCode; readonly reason: string }
  | { readonly ok: false; readonly cause: "ticket"; readonly ticket: TicketRefusal; readonly code: GatewayCloseCode; readonly reason: string };

/** What the connection stage reads of the upgrade request. */
export interface ConnectionRequest {
  /** The `Authorization` header. */
  readonly authorization: string | undefined;
  /** The offered subprotocols, as the handshake stage read them. */
  readonly protocols: readonly string[];
  /** Whether the request URL has a `ticket` query parameter. */
  readonly ticketInUrl: boolean;
}

export interface AdmissionPolicy {
  /** Origins whose pages may connect; undefined: any. */
  readonly origins: OriginPolicy | undefined;
  /** The client token; undefined: no token needed (unless `tickets` is set). */
  readonly clientToken: TokenCheck | undefined;
  /** The secrets room tickets are accepted under; undefined: tickets are refused. Set, a client needs a ticket or the client token. */
  readonly tickets?: TicketKeyring | undefined;
  readonly maxConnections: number;
}

/** The offered subprotocols of a `Sec-WebSocket-Protocol` header: its comma-separated values, trimmed. */
export function offeredProtocols(header: string | undefined): string[] {
  return (header ?? "").split(",").map((p) => p.trim());
}

/** The handshake stage: whether the upgrade may become a WebSocket. */
export function admitHandshake(policy: AdmissionPolicy, request: HandshakeRequest, draining: boolean): HandshakeVerdict {
  if (draining) return { ok: false, cause: "draining", status: 503, message: "gateway shutting down" };
  if (request.lockedOut === true) return { ok: false, cause: "auth_lockout", status: 429, message: "too many failed authentications from this address; try again later" };
  if (policy.origins !== undefined && !policy.origins.allows(request.origin)) return { ok: false, cause: "origin", status: 403, message: "origin not allowed" };
  if (!offeredProtocols(request.protocols).includes(GATEWAY_SUBPROTOCOL)) return { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${GATEWAY_SUBPROTOCOL}` };
  return { ok: true };
}

/**
 * The connection stage: whether a WebSocket just opened may stay, and to which rooms, given its
 * credentials (a ticket if it offered one, else its `Authorization` header), the connections open and
 * the time (for the ticket's expiry).
 */
export function admitConnection(policy: AdmissionPolicy, request: ConnectionRequest, state: { readonly draining: boolean; readonly connections: number; readonly now: number }): ConnectionVerdict {
  if (state.draining) return { ok: false, cause: "draining", code: GatewayCloseCode.GOING_AWAY, reason: "gateway shutting down" };
  if (request.ticketInUrl) return refusedTicket("in_url");
  const offered = offeredTicket(request.protocols);
  let grant: TicketGrant | undefined;
  if (offered.kind === "several") return refusedTicket("several");
  if (offered.kind === "one") {
    if (policy.tickets === undefined) return refusedTicket("not_accepted");
    try {
      grant = verifyTicket(offered.ticket, { keys: policy.tickets, now: state.now });
    } catch (error) {
      return refusedTicket(error instanceof TicketError ? error.reason : "malformed");
    }
  } else if (policy.clientToken === undefined ? policy.tickets !== undefined : !policy.clientToken.matchesHeader(request.authorization)) {
    return { ok: false, cause: "unauthorized", code: GatewayCloseCode.UNAUTHORIZED, reason: "unauthorized" };
  }
  if (state.connections >= policy.maxConnections) return { ok: false, cause: "connection_limit", code: GatewayCloseCode.TRY_AGAIN_LATER, reason: "too many connections" };
  return grant === undefined ? { ok: true } : { ok: true, grant };
}

/** The close reason of each ticket refusal: what the client's developer needs, never the ticket. */
const TICKET_CLOSE_REASONS: Readonly<Record<TicketRefusal, string>> = {
  malformed: "ticket refused: malformed",
  oversized: "ticket refused: too large",
  bad_signature: "ticket refused: bad signature",
  unknown_key: "ticket refused: signed with a key this gateway does not hold",
  expired: "ticket expired",
  too_long_lived: "ticket refused: expires too far ahead",
  in_url: "ticket refused: present it as a subprotocol, never in the URL",
  not_accepted: "ticket refused: this gateway takes no tickets",
  several: "ticket refused: offer one ticket",
};

function refusedTicket(ticket: TicketRefusal): ConnectionVerdict {
  const code = ticket === "expired" ? GatewayCloseCode.TICKET_EXPIRED : GatewayCloseCode.TICKET_INVALID;
  return { ok: false, cause: "ticket", ticket, code, reason: TICKET_CLOSE_REASONS[ticket] };
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
