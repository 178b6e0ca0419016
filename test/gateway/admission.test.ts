/** Who may connect to the gateway: the handshake stage (HTTP statuses) and the connection stage (close codes). */
import { describe, expect, it } from "vitest";
import { type AdmissionPolicy, admitConnection, admitHandshake, type ConnectionVerdict, type HandshakeVerdict, handshakeRefusal, type TicketRefusal } from "../../src/gateway/admission.js";
import type { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import { OriginPolicy } from "../../src/gateway/origin.js";
import { mintTicket, ticketKeyId, TicketKeyring } from "../../src/gateway/ticket.js";
import { TokenCheck } from "../../src/gateway/token.js";

const open: AdmissionPolicy = { origins: undefined, clientToken: undefined, maxConnections: 2 };
const guarded: AdmissionPolicy = { origins: new OriginPolicy(["https://play.example.com"]), clientToken: new TokenCheck("c1ient s3cret"), maxConnections: 2 };
const V1 = "room-watcher.v1";

describe("admitHandshake", () => {
  it.each<[string, AdmissionPolicy, string | undefined, string | undefined, boolean, HandshakeVerdict]>([
    ["open, the subprotocol offered", open, undefined, V1, false, { ok: true }],
    ["among others, spaces around", open, undefined, `chat,  ${V1} , x`, false, { ok: true }],
    ["no subprotocol", open, undefined, undefined, false, { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${V1}` }],
    ["another subprotocol", open, undefined, "room-watcher.v2", false, { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${V1}` }],
    ["an allowed page", guarded, "https://play.example.com", V1, false, { ok: true }],
    ["no Origin (not a browser)", guarded, undefined, V1, false, { ok: true }],
    ["another page, checked before the subprotocol", guarded, "https://evil.example", undefined, false, { ok: false, cause: "origin", status: 403, message: "origin not allowed" }],
    ["any page when no origin is listed", open, "https://evil.example", V1, false, { ok: true }],
    ["draining, before anything else", guarded, "https://evil.example", undefined, true, { ok: false, cause: "draining", status: 503, message: "gateway shutting down" }],
  ])("%s", (_name, policy, origin, protocols, draining, verdict) => {
    expect(admitHandshake(policy, { origin, protocols }, draining)).toEqual(verdict);
  });

  it("a refusal is one raw HTTP response that closes the connection", () => {
    expect(handshakeRefusal({ ok: false, cause: "origin", status: 403, message: "origin not allowed" })).toBe(
      'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 32\r\nconnection: close\r\n\r\n{"message":"origin not allowed"}',
    );
    expect(handshakeRefusal({ ok: false, cause: "draining", status: 503, message: "gateway shutting down" })).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(handshakeRefusal({ ok: false, cause: "subprotocol", status: 400, message: "x" })).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe("admitConnection", () => {
  it.each<[string, AdmissionPolicy, string | undefined, boolean, number, ConnectionVerdict]>([
    ["open, under the limit", open, undefined, false, 1, { ok: true }],
    ["open, at the limit: 1013", open, undefined, false, 2, { ok: false, cause: "connection_limit", code: 1013, reason: "too many connections" }],
    ["the token, under the limit", guarded, "Bearer c1ient s3cret", false, 0, { ok: true }],
    ["the token, scheme in any case", guarded, "bEARER c1ient s3cret", false, 0, { ok: true }],
    ["no token: 4401", guarded, undefined, false, 0, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["part of the token: 4401", guarded, "Bearer c1ient", false, 0, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["a wrong token at the limit: 4401 first", guarded, "Bearer nope", false, 5, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["draining, before the token: 1001", guarded, undefined, true, 0, { ok: false, cause: "draining", code: 1001, reason: "gateway shutting down" }],
  ])("%s", (_name, policy, authorization, draining, connections, verdict) => {
    expect(admitConnection(policy, { authorization, protocols: [V1], ticketInUrl: false }, { draining, connections, now: 0 })).toEqual(verdict);
  });
});

describe("admitConnection with room tickets", () => {
  const SECRET = "ticket-secret-for-admission-tests-0123";
  const tickets = new TicketKeyring(SECRET);
  const T0 = 1_700_000_000_000;
  const ticket = mintTicket({ secret: SECRET, rooms: ["r1", "r2"], ttlMs: 60_000, now: T0 });
  const withTickets: AdmissionPolicy = { ...guarded, origins: undefined, tickets };
  const ticketsOnly: AdmissionPolicy = { ...open, tickets };
  const refused = (ticketRefusal: TicketRefusal, code: GatewayCloseCode, reason: string): ConnectionVerdict => ({ ok: false, cause: "ticket", ticket: ticketRefusal, code, reason });

  it.each<[string, AdmissionPolicy, { authorization?: string; protocols?: string[]; ticketInUrl?: boolean; now?: number; connections?: number }, ConnectionVerdict]>([
    ["a valid ticket: its rooms", withTickets, { protocols: [V1, `ticket.${ticket}`] }, { ok: true, grant: { rooms: ["r1", "r2"], keyId: ticketKeyId(SECRET), expiresAtMs: T0 + 60_000 } }],
    ["a valid ticket where tickets alone are taken", ticketsOnly, { protocols: [V1, `ticket.${ticket}`] }, { ok: true, grant: { rooms: ["r1", "r2"], keyId: ticketKeyId(SECRET), expiresAtMs: T0 + 60_000 } }],
    ["the token still admits a server, to any room", withTickets, { authorization: "Bearer c1ient s3cret" }, { ok: true }],
    ["no credential where tickets alone are taken: 4401", ticketsOnly, {}, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["an expired ticket: 4410", withTickets, { protocols: [V1, `ticket.${ticket}`], now: T0 + 3_600_000 }, refused("expired", 4410, "ticket expired")],
    ["a forged ticket: 4403, even with the right token beside it", withTickets, { authorization: "Bearer c1ient s3cret", protocols: [V1, `ticket.${ticket.slice(0, -2)}AA`] }, refused("bad_signature", 4403, "ticket refused: bad signature")],
    ["a ticket to a gateway that takes none: 4403", guarded, { authorization: "Bearer c1ient s3cret", protocols: [V1, `ticket.${ticket}`] }, refused("not_accepted", 4403, "ticket refused: this gateway takes no tickets")],
    ["a ticket to an open gateway: 4403", open, { protocols: [V1, `ticket.${ticket}`] }, refused("not_accepted", 4403, "ticket refused: this gateway takes no tickets")],
    ["two tickets: 4403", withTickets, { protocols: [V1, `ticket.${ticket}`, `ticket.${ticket}`] }, refused("several", 4403, "ticket refused: offer one ticket")],
    ["a ticket in the URL: 4403, before anything else is read", withTickets, { authorization: "Bearer c1ient s3cret", ticketInUrl: true }, refused("in_url", 4403, "ticket refused: present it as a subprotocol, never in the URL")],
    ["a ticket in the URL of an open gateway: 4403", open, { ticketInUrl: true }, refused("in_url", 4403, "ticket refused: present it as a subprotocol, never in the URL")],
    ["a valid ticket at the connection limit: 1013", withTickets, { protocols: [V1, `ticket.${ticket}`], connections: 2 }, { ok: false, cause: "connection_limit", code: 1013, reason: "too many connections" }],
  ])("%s", (_name, policy, request, verdict) => {
    const connectionRequest = { authorization: request.authorization, protocols: request.protocols ?? [V1], ticketInUrl: request.ticketInUrl ?? false };
    expect(admitConnection(policy, connectionRequest, { draining: false, connections: request.connections ?? 0, now: request.now ?? T0 })).toEqual(verdict);
  });
});
