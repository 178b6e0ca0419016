/** Room tickets, as pure functions: minting, verifying (with an injected clock), key rings, and each refusal with its reason. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, TicketError, type TicketErrorReason } from "../../src/core/errors.js";
import {
  MAX_TICKET_CHARS,
  MAX_TICKET_ROOMS,
  MAX_TICKET_TTL_MS,
  mintTicket,
  TICKET_CLOCK_SKEW_MS,
  ticketKeyId,
  TicketKeyring,
  verifyTicket,
} from "../../src/gateway/ticket.js";
import { isTicketShaped, offeredTicket, ticketSubprotocol } from "../../src/protocol/ticket-format.js";

const SECRET = "current-ticket-secret-0123456789abcdef";
const OLD_SECRET = "previous-ticket-secret-0123456789abcdef";
const OTHER_SECRET = "somebody-elses-secret-0123456789abcdef";
const T0 = 1_700_000_000_000;
const keys = new TicketKeyring(SECRET, OLD_SECRET);

/** The reason verifyTicket refuses `ticket` with at `now`, or "ok". */
function verdict(ticket: unknown, now = T0, ring = keys): TicketErrorReason | "ok" {
  try {
    verifyTicket(ticket, { keys: ring, now });
    return "ok";
  } catch (error) {
    if (!(error instanceof TicketError)) throw error;
    expect(error.code).toBe("RW_TICKET");
    expect(error.retryable).toBe(false);
    return error.reason;
  }
}

/** A ticket signed correctly over any payload text: for payloads mintTicket would never make. */
function signedOver(payload: unknown, secret = SECRET): string {
  const text = Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)).toString("base64url");
  return `${text}.${createHmac("sha256", secret).update(text).digest("base64url")}`;
}

describe("mintTicket and verifyTicket", () => {
  it("round-trips: the grant names the rooms (deduplicated), the key id and the expiry", () => {
    const ticket = mintTicket({ secret: SECRET, rooms: ["room-a", "room-b", "room-a"], ttlMs: 60_000, now: T0 });
    expect(isTicketShaped(ticket)).toBe(true);
    expect(ticket).not.toContain(SECRET);
    expect(verifyTicket(ticket, { keys, now: T0 + 1_000 })).toEqual({ rooms: ["room-a", "room-b"], keyId: ticketKeyId(SECRET), expiresAtMs: T0 + 60_000 });
    // The payload is plain base64url JSON (the format docs/gateway.md gives other runtimes).
    expect(JSON.parse(Buffer.from(ticket.split(".")[0] ?? "", "base64url").toString())).toEqual({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: ["room-a", "room-b"] });
  });

  it("derives a stable key id from the secret, 8 base64url characters, different per secret", () => {
    expect(ticketKeyId(SECRET)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(ticketKeyId(SECRET)).toBe(ticketKeyId(SECRET));
    expect(ticketKeyId(SECRET)).not.toBe(ticketKeyId(OLD_SECRET));
  });

  const minted = (overrides: Partial<Parameters<typeof mintTicket>[0]> = {}): string => mintTicket({ secret: SECRET, rooms: ["r1"], ttlMs: 60_000, now: T0, ...overrides });
  const valid = minted();
  const [payloadPart, signaturePart] = valid.split(".") as [string, string];
  const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);

  it.each<[string, unknown, number, TicketErrorReason | "ok"]>([
    ["genuine, just minted", valid, T0, "ok"],
    ["genuine, at its expiry", valid, T0 + 60_000, "ok"],
    [`genuine, ${TICKET_CLOCK_SKEW_MS} ms past its expiry (the clock-skew allowance)`, valid, T0 + 60_000 + TICKET_CLOCK_SKEW_MS, "ok"],
    ["genuine, 1 ms past the allowance: replayed after expiry", valid, T0 + 60_000 + TICKET_CLOCK_SKEW_MS + 1, "expired"],
    ["genuine, an hour later", valid, T0 + 3_600_000, "expired"],
    ["minted by a clock ahead of ours by less than the allowance", minted({ now: T0 + 5_000, ttlMs: MAX_TICKET_TTL_MS }), T0, "ok"],
    ["expiring further ahead than a day plus the allowance", signedOver({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + MAX_TICKET_TTL_MS + TICKET_CLOCK_SKEW_MS + 1, rooms: ["r1"] }), T0, "too_long_lived"],
    ["signed with the previous secret", minted({ secret: OLD_SECRET }), T0, "ok"],
    ["signed with a secret rotated out", minted({ secret: OTHER_SECRET }), T0, "unknown_key"],
    ["another secret under the current key id: forged", minted({ secret: OTHER_SECRET, keyId: ticketKeyId(SECRET) }), T0, "bad_signature"],
    ["a payload altered (rooms or expiry), the signature kept", `${flip(payloadPart, 30)}.${signaturePart}`, T0, "malformed"],
    ["a re-encoded payload naming another room, the signature kept", `${Buffer.from(JSON.stringify({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: ["r2"] })).toString("base64url")}.${signaturePart}`, T0, "bad_signature"],
    ["a signature altered", `${payloadPart}.${flip(signaturePart, 5)}`, T0, "bad_signature"],
    ["a signature truncated by one character", valid.slice(0, -1), T0, "bad_signature"],
    ["a signature truncated to half", `${payloadPart}.${signaturePart.slice(0, 21)}`, T0, "bad_signature"],
    ["a signature too long", `${valid}A`, T0, "bad_signature"],
    ["no signature", payloadPart, T0, "malformed"],
    ["an empty signature", `${payloadPart}.`, T0, "malformed"],
    ["three parts", `${valid}.x`, T0, "malformed"],
    ["a character outside base64url", `${payloadPart}.${signaturePart.slice(0, -1)}=`, T0, "malformed"],
    ["the empty string", "", T0, "malformed"],
    ["not a string", 42, T0, "malformed"],
    ["a payload that is not JSON", signedOver("not json"), T0, "malformed"],
    ["a payload of another version", signedOver({ v: 2, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: ["r1"] }), T0, "malformed"],
    ["a payload with no rooms", signedOver({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: [] }), T0, "malformed"],
    ["a payload with a room id that is no room id", signedOver({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: ["../admin"] }), T0, "malformed"],
    ["a payload with a field more", signedOver({ v: 1, kid: ticketKeyId(SECRET), expMs: T0 + 60_000, rooms: ["r1"], admin: true }), T0, "malformed"],
    ["an expiry in seconds, not ms (JWT style): long expired", signedOver({ v: 1, kid: ticketKeyId(SECRET), expMs: Math.floor(T0 / 1000) + 60, rooms: ["r1"] }), T0, "expired"],
    [`one character over ${MAX_TICKET_CHARS}`, `${"A".repeat(MAX_TICKET_CHARS - 43)}.${"B".repeat(43)}`, T0, "oversized"],
    ["a megabyte", "A".repeat(1024 * 1024), T0, "oversized"],
  ])("%s: %s", (_name, ticket, now, expected) => {
    expect(verdict(ticket, now)).toBe(expected);
  });

  it("never repeats the ticket or a secret in its messages", () => {
    for (const ticket of [minted({ secret: OTHER_SECRET }), valid.slice(0, -1), `${valid}x`, "x".repeat(MAX_TICKET_CHARS + 1)]) {
      try {
        verifyTicket(ticket, { keys, now: T0 + 3_600_000 });
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).not.toContain(ticket.slice(0, 40));
        expect((error as Error).message).not.toContain(SECRET);
      }
    }
  });

  it("a ticket under an explicit key id is accepted by a key ring holding that id, and only there", () => {
    const named = new TicketKeyring({ secret: SECRET, keyId: "2025-06" });
    const ticket = minted({ keyId: "2025-06" });
    expect(verifyTicket(ticket, { keys: named, now: T0 })).toMatchObject({ keyId: "2025-06" });
    expect(verdict(ticket, T0, keys)).toBe("unknown_key");
    expect(verdict(valid, T0, named)).toBe("unknown_key");
  });

  it("takes a clock-skew allowance of the caller's", () => {
    expect(() => verifyTicket(valid, { keys, now: T0 + 60_001, clockSkewMs: 0 })).toThrow(/expired/);
    expect(verifyTicket(valid, { keys, now: T0 + 90_000, clockSkewMs: 30_000 }).rooms).toEqual(["r1"]);
  });

  it.each<[string, Partial<Parameters<typeof mintTicket>[0]>, RegExp]>([
    ["a short secret", { secret: "too-short" }, /secret has fewer than 32 characters: a ticket secret needs at least that many/],
    ["a secret with a trailing line feed", { secret: `${SECRET}\n` }, /secret contains a line feed/],
    ["no rooms", { rooms: [] }, /rooms must name at least one room/],
    ["a bad room id", { rooms: ["a/b"] }, /invalid room id "a\/b"/],
    ["too many rooms", { rooms: Array.from({ length: MAX_TICKET_ROOMS + 1 }, (_, i) => `room-${i}`) }, /a ticket names at most 32/],
    ["rooms too long together", { rooms: Array.from({ length: MAX_TICKET_ROOMS }, (_, i) => `${"r".repeat(240)}${i}`) }, /the ticket would be \d+ characters, over the 4096/],
    ["a TTL of 0", { ttlMs: 0 }, /ttlMs must be a positive finite number of milliseconds/],
    ["a negative TTL", { ttlMs: -1 }, /ttlMs must be a positive/],
    ["a TTL over a day", { ttlMs: MAX_TICKET_TTL_MS + 1 }, /ttlMs must be at most 86400000/],
    ["a bad key id", { keyId: "key id" }, /invalid keyId "key id"/],
    ["a bad now", { now: Number.NaN }, /now must be a time in epoch milliseconds/],
  ])("mintTicket refuses %s with a ConfigError naming it, never the secret", (_name, overrides, message) => {
    let thrown: unknown;
    try {
      minted(overrides);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain("current-ticket-secret");
  });

  it.each<[string, () => unknown, RegExp]>([
    ["a short current secret", () => new TicketKeyring("short"), /ticketSecret has fewer than 32 characters/],
    ["a short previous secret", () => new TicketKeyring(SECRET, "short"), /ticketSecretPrevious has fewer than 32 characters/],
    ["the same secret twice", () => new TicketKeyring(SECRET, SECRET), /ticketSecretPrevious has the key id .* of the current ticket secret/],
    ["two secrets under one key id", () => new TicketKeyring({ secret: SECRET, keyId: "k" }, { secret: OLD_SECRET, keyId: "k" }), /ticketSecretPrevious has the key id k/],
    ["a bad key id", () => new TicketKeyring({ secret: SECRET, keyId: "k.1" }), /invalid ticketSecret key id "k.1"/],
  ])("a key ring refuses %s", (_name, build, message) => {
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });

  it("a key ring prints no key material", () => {
    expect(JSON.stringify(keys)).not.toContain(SECRET);
    expect(keys.keyIds).toEqual([ticketKeyId(SECRET), ticketKeyId(OLD_SECRET)]);
  });
});

describe("the ticket's subprotocol entry", () => {
  it.each<[string, string[], ReturnType<typeof offeredTicket>]>([
    ["none", ["room-watcher.v1"], { kind: "none" }],
    ["one", ["room-watcher.v1", "ticket.abc.def"], { kind: "one", ticket: "abc.def" }],
    ["two", ["ticket.a.b", "room-watcher.v1", "ticket.c.d"], { kind: "several" }],
  ])("%s", (_name, protocols, expected) => {
    expect(offeredTicket(protocols)).toEqual(expected);
  });

  it("is made of token characters only (RFC 6455 subprotocol values), whatever the rooms", () => {
    const ticket = mintTicket({ secret: SECRET, rooms: ["a.b-c_D", "x".repeat(253)], ttlMs: 1, now: T0 });
    expect(ticketSubprotocol(ticket)).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
  });
});
