/**
 * A room ticket's shape on the wire, and how a client presents one: as an entry of the WebSocket
 * subprotocol list, `ticket.<ticket>`, beside `room-watcher.v1`. What the shape means (the signed
 * payload, its key id and expiry) is the gateway's business (src/gateway/ticket.ts); this file is all a
 * client needs, and runs anywhere (no crypto, nothing Node-only).
 *
 * Why a subprotocol entry: a browser's WebSocket can send no header, but it sends its subprotocols in
 * the handshake, so the gateway checks the ticket before the socket is a connection, and proxies that
 * log URLs do not usually log Sec-WebSocket-Protocol. Its values must be HTTP tokens: base64url and
 * the dot are token characters, which is why a ticket is made of nothing else.
 */

/** The prefix of the subprotocol entry that carries a ticket. */
export const TICKET_SUBPROTOCOL_PREFIX = "ticket.";

/** The longest ticket a gateway reads (characters); a longer one is refused without being decoded. */
export const MAX_TICKET_CHARS = 4_096;

/** Rooms one ticket may name at most. */
export const MAX_TICKET_ROOMS = 32;

/** `base64url(payload).base64url(signature)`: two runs of base64url characters around one dot. */
export const TICKET_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether `value` has a ticket's shape and size (not whether it is genuine: only the gateway can tell). */
export function isTicketShaped(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_TICKET_CHARS && TICKET_PATTERN.test(value);
}

/** The subprotocol entry presenting `ticket`. */
export function ticketSubprotocol(ticket: string): string {
  return `${TICKET_SUBPROTOCOL_PREFIX}${ticket}`;
}

/**
 * What a handshake's subprotocol list says about a ticket: `none` offered, the one `ticket` offered, or
 * `several` (a client offers at most one; two cannot both be meant).
 */
export type OfferedTicket = { readonly kind: "none" } | { readonly kind: "one"; readonly ticket: string } | { readonly kind: "several" };

/** Reads the ticket entry from the offered subprotocols (the header's comma-separated values, trimmed). */
export function offeredTicket(protocols: readonly string[]): OfferedTicket {
  const entries = protocols.filter((p) => p.startsWith(TICKET_SUBPROTOCOL_PREFIX));
  if (entries.length === 0) return { kind: "none" };
  if (entries.length > 1) return { kind: "several" };
  return { kind: "one", ticket: (entries[0] ?? "").slice(TICKET_SUBPROTOCOL_PREFIX.length) };
}
