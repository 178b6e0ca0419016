/**
 * Room tickets at the gateway (issue 16, part 2), through real sockets on a fake clock: a ticket signed
 * with the current or the previous secret admits its holder to its rooms and no other; forged, expired
 * (replayed after expiry), truncated, rotated-out, oversized and URL-borne tickets are refused, each
 * with its close code and reason, counted, logged without the ticket, at no upstream request; refused
 * tickets count toward the failed-authentication lockout; the client token still admits servers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createJsonLogger } from "../../../src/gateway/logging.js";
import { MAX_TICKET_CHARS, mintTicket, TICKET_CLOCK_SKEW_MS } from "../../../src/gateway/ticket.js";
import { GatewayCloseCode } from "../../../src/protocol/close-codes.js";
import { GATEWAY_SUBPROTOCOL } from "../../../src/protocol/messages.js";
import { ticketSubprotocol } from "../../../src/protocol/ticket-format.js";
import { connectRaw, type RawClient } from "../../helpers/ws-client.js";
import { abuseGateway, metric } from "./abuse-gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SECRET = "current-ticket-secret-for-the-abuse-suite";
const PREVIOUS = "previous-ticket-secret-for-the-abuse-suite";
const ROTATED_OUT = "rotated-out-ticket-secret-for-the-abuse-suite";
const CLIENT_TOKEN = "server-side-client-token";
const TTL_MS = 60_000;

/** A gateway taking tickets (current and previous secret) and the client token, logging every line (debug) into `lines`. */
async function ticketGateway(limits: { maxFailedAuthsPerMinute?: number } = {}) {
  const lines: string[] = [];
  const destination = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
  const t = await abuseGateway({
    ticketSecret: SECRET,
    ticketSecretPrevious: PREVIOUS,
    clientToken: CLIENT_TOKEN,
    logger: createJsonLogger({ destination, level: "debug" }),
    limits: { maxFailedAuthsPerMinute: 1_000, ...limits },
  });
  cleanups.push(async () => expect(await t.close()).toBe(0));
  // Rooms that exist: r1 and r2 start, then are active at 2 s.
  t.upstream.activeAt.set("r1", t.time.fake.now + 2_000);
  t.upstream.activeAt.set("r2", t.time.fake.now + 2_000);
  const mint = (options: { secret?: string; rooms?: string[]; ttlMs?: number } = {}): string =>
    mintTicket({ secret: options.secret ?? SECRET, rooms: options.rooms ?? ["r1"], ttlMs: options.ttlMs ?? TTL_MS, now: t.time.fake.now });
  const connect = (ticket: string): Promise<RawClient> => connectRaw(t.gateway.url, { protocols: [GATEWAY_SUBPROTOCOL, ticketSubprotocol(ticket)] });
  return { ...t, lines, mint, connect };
}

/** Closes a client that is still open, and waits for it. */
async function hangUp(client: RawClient): Promise<void> {
  client.ws.close();
  await client.closed;
}

describe("room tickets at the gateway", () => {
  it.each([
    ["the current secret", SECRET],
    ["the previous secret (a rotation under way)", PREVIOUS],
  ])("a ticket signed with %s admits its holder to its rooms, and answers a subscribe to any other with room_not_in_ticket at no upstream cost", async (_name, secret) => {
    const t = await ticketGateway();
    const client = await t.connect(t.mint({ secret, rooms: ["r1"] }));
    await client.next((m) => m.type === "welcome");
    client.send({ type: "subscribe", roomId: "r1" });
    await client.next((m) => m.type === "snapshot" && m.roomId === "r1");
    // r2 exists, the gateway watches it for nobody else, but this ticket does not name it.
    client.send({ type: "subscribe", roomId: "r2" });
    expect(await client.next((m) => m.type === "error")).toEqual({ type: "error", code: "room_not_in_ticket", message: "this connection's ticket does not name this room", roomId: "r2" });
    // r1 is watched for it: its first look's answer arrives.
    await client.next((m) => m.type === "update" && m.roomId === "r1" && m.result.observation.kind === "starting");
    expect(t.upstream.looksAt("r1").length).toBeGreaterThan(0);
    expect(t.upstream.looksAt("r2")).toEqual([]);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="accepted"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_protocol_errors_total{code="room_not_in_ticket"}')).toBe(1);
    await hangUp(client);
  });

  it("keeps serving servers with the client token, to any room, beside tickets", async () => {
    const t = await ticketGateway();
    const server = await connectRaw(t.gateway.url, { token: CLIENT_TOKEN });
    await server.next((m) => m.type === "welcome");
    server.send({ type: "subscribe", roomId: "r2" });
    await server.next((m) => m.type === "snapshot" && m.roomId === "r2");
    const anonymous = await connectRaw(t.gateway.url);
    expect(await anonymous.closed).toEqual({ code: GatewayCloseCode.UNAUTHORIZED, reason: "unauthorized" });
    await hangUp(server);
  });

  it("refuses every bad ticket with its own close code and reason, counts it, logs it without the ticket, and looks at nothing upstream", async () => {
    const t = await ticketGateway();
    const valid = t.mint({ rooms: ["r1"] });
    const [payload, signature] = valid.split(".") as [string, string];
    // Another room's ticket, its payload re-encoded with the original signature: what a player would try.
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { kid: string };
    const otherRoomPayload = Buffer.from(JSON.stringify({ ...claims, rooms: ["r2"] })).toString("base64url");
    const forgedUnderCurrentKey = mintTicket({ secret: ROTATED_OUT, keyId: claims.kid, rooms: ["r1"], ttlMs: TTL_MS, now: t.time.fake.now });
    const cases: Array<{ name: string; ticket: string; url?: string; code: number; reason: string; outcome: string }> = [
      { name: "forged (another secret under the current key id)", ticket: forgedUnderCurrentKey, code: 4403, reason: "ticket refused: bad signature", outcome: "bad_signature" },
      { name: "for another room (payload altered)", ticket: `${otherRoomPayload}.${signature}`, code: 4403, reason: "ticket refused: bad signature", outcome: "bad_signature" },
      { name: "with a truncated signature", ticket: `${payload}.${signature.slice(0, 20)}`, code: 4403, reason: "ticket refused: bad signature", outcome: "bad_signature" },
      { name: "signed with a rotated-out secret", ticket: t.mint({ secret: ROTATED_OUT }), code: 4403, reason: "ticket refused: signed with a key this gateway does not hold", outcome: "unknown_key" },
      { name: "oversized", ticket: `${"A".repeat(MAX_TICKET_CHARS - 43)}.${"B".repeat(43)}`, code: 4403, reason: "ticket refused: too large", outcome: "oversized" },
      { name: "malformed", ticket: `${payload}`, code: 4403, reason: "ticket refused: malformed", outcome: "malformed" },
    ];
    for (const c of cases) {
      const client = await t.connect(c.ticket);
      // Whatever it sends before the close arrives is not read.
      client.send({ type: "subscribe", roomId: "r1" });
      expect(await client.closed, c.name).toEqual({ code: c.code, reason: c.reason });
      expect(client.messages, c.name).toEqual([]);
    }
    // In the query string, where it does not belong: refused even though it is genuine.
    const inUrl = await connectRaw(`${t.gateway.url}/?ticket=${valid}`);
    expect(await inUrl.closed).toEqual({ code: 4403, reason: "ticket refused: present it as a subprotocol, never in the URL" });
    const inUrlBeside = await connectRaw(`${t.gateway.url}/?ticket=${valid}`, { protocols: [GATEWAY_SUBPROTOCOL, ticketSubprotocol(valid)] });
    expect((await inUrlBeside.closed).code).toBe(4403);

    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="bad_signature"}')).toBe(3);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="unknown_key"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="oversized"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="malformed"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="in_url"}')).toBe(2);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="accepted"}')).toBe(0);
    expect(await metric(t.gateway, 'room_watcher_gateway_closes_total{code="4403"}')).toBe(8);
    expect(t.upstream.looks).toEqual([]);
    expect(t.gateway.stats).toMatchObject({ connections: 0, subscriptions: 0, rooms: 0 });
    // One line per kind of refusal (rate-limited), none with a ticket, a signature or a secret in it.
    const log = t.lines.join("\n");
    expect(t.lines.filter((l) => l.includes('"refused: ticket_bad_signature'))).toHaveLength(1);
    expect(t.lines.filter((l) => l.includes('"refused: ticket_in_url'))).toHaveLength(1);
    for (const secretText of [SECRET, PREVIOUS, ROTATED_OUT, payload, signature, signature.slice(0, 20), otherRoomPayload]) expect(log).not.toContain(secretText);
  });

  it(`refuses a ticket replayed after its expiry (plus the ${TICKET_CLOCK_SKEW_MS} ms allowance) with 4410, though it admitted it before`, async () => {
    const t = await ticketGateway();
    const ticket = t.mint({ rooms: ["r1"], ttlMs: 30_000 });
    const early = await t.connect(ticket);
    await early.next((m) => m.type === "welcome");
    await hangUp(early);
    // Within the allowance: still admitted.
    await t.time.tick(30_000 + TICKET_CLOCK_SKEW_MS);
    const late = await t.connect(ticket);
    await late.next((m) => m.type === "welcome");
    await hangUp(late);
    await t.time.tick(1);
    const replayed = await t.connect(ticket);
    replayed.send({ type: "subscribe", roomId: "r1" });
    expect(await replayed.closed).toEqual({ code: GatewayCloseCode.TICKET_EXPIRED, reason: "ticket expired" });
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="expired"}')).toBe(1);
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="accepted"}')).toBe(2);
    expect(await metric(t.gateway, 'room_watcher_gateway_closes_total{code="4410"}')).toBe(1);
    expect(t.upstream.looks).toEqual([]);
    expect(t.lines.join("\n")).not.toContain(ticket.split(".")[1]);
  });

  it("counts refused tickets as failed authentications: forging them from one address ends in the lockout", async () => {
    const t = await ticketGateway({ maxFailedAuthsPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const forged = await t.connect(t.mint({ secret: ROTATED_OUT, rooms: [`guess-${i}`] }));
      expect((await forged.closed).code).toBe(GatewayCloseCode.TICKET_INVALID);
    }
    // Locked out before the upgrade: even a genuine ticket from this address waits for the rate to fall back.
    await expect(t.connect(t.mint())).rejects.toThrow("HTTP 429");
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="auth_lockout"}')).toBe(1);
    await t.time.tick(20_000);
    const player = await t.connect(t.mint());
    await player.next((m) => m.type === "welcome");
    await hangUp(player);
  });

  it("refuses a ticket at a gateway that takes none (4403), so a misconfiguration shows at once", async () => {
    const t = await abuseGateway();
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const ticket = mintTicket({ secret: SECRET, rooms: ["r1"], ttlMs: TTL_MS, now: t.time.fake.now });
    const client = await connectRaw(t.gateway.url, { protocols: [GATEWAY_SUBPROTOCOL, ticketSubprotocol(ticket)] });
    expect(await client.closed).toEqual({ code: 4403, reason: "ticket refused: this gateway takes no tickets" });
    expect(await metric(t.gateway, 'room_watcher_gateway_tickets_total{outcome="not_accepted"}')).toBe(1);
  });

  it("never echoes the ticket: the subprotocol the gateway selects is room-watcher.v1", async () => {
    const t = await ticketGateway();
    const client = await t.connect(t.mint());
    expect(client.ws.protocol).toBe(GATEWAY_SUBPROTOCOL);
    await client.next((m) => m.type === "welcome");
    await hangUp(client);
  });
});
