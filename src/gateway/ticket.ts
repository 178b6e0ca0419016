/**
 * Signed room tickets: what a backend gives a player's browser so that it may wait on its own rooms at
 * the gateway, and on no other, for a while. A ticket is `base64url(payload).base64url(signature)`:
 *
 * - the payload is the JSON `{"v":1,"kid":<key id>,"expMs":<expiry, epoch ms>,"rooms":[<room id>...]}`;
 * - the signature is HMAC-SHA256, keyed with the ticket secret, over the payload's base64url text (the
 *   bytes before the dot), as JWS signs its input.
 *
 * The key id names the secret, so that secrets can be rotated: a gateway holds a current and a previous
 * one, and a ticket signed with any other is refused as `unknown_key`. Left out, a key id is derived
 * from the secret (ticketKeyId), so a backend and a gateway given the same secret agree on it.
 *
 * Node's crypto, synchronously: minting is a backend's call and verifying the gateway's, both on Node,
 * and a synchronous check keeps the gateway's admission of a connection in one turn of the event loop
 * (nothing can change between the ticket's check and the verdict). Another runtime mints its own
 * tickets from the format above (docs/gateway.md shows it with WebCrypto).
 */
import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { ConfigError, TicketError } from "../core/errors.js";
import { ROOM_ID_PATTERN, ROOM_ID_RULE, validateDurationMs, validateId, validateRoomId, validateToken } from "../core/validate.js";
import { MAX_TICKET_CHARS, MAX_TICKET_ROOMS, TICKET_PATTERN } from "../protocol/ticket-format.js";

export { MAX_TICKET_CHARS, MAX_TICKET_ROOMS } from "../protocol/ticket-format.js";

/** The shortest ticket secret accepted: 32 characters (use 32 random bytes, base64url: 43). */
export const MIN_TICKET_SECRET_CHARS = 32;

/** The longest a ticket may live: one day. A gateway refuses one that expires later than this from now. */
export const MAX_TICKET_TTL_MS = 24 * 60 * 60 * 1000;

/** How far the minter's clock and the gateway's may disagree: a ticket is accepted until this long after its expiry. */
export const TICKET_CLOCK_SKEW_MS = 10_000;

/** A key id: what names a ticket secret inside the tickets it signs. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_ID_RULE = "1..32 characters of [A-Za-z0-9_-]";

/** A base64url HMAC-SHA256: 32 bytes, 43 characters without padding. */
const SIGNATURE_CHARS = 43;

/** A ticket secret and, optionally, the key id that names it (default: derived from the secret). */
export interface TicketKey {
  /** At least 32 printable ASCII characters, no whitespace at either end. Never logged. */
  readonly secret: string;
  /** The key id tickets signed with it carry. Default ticketKeyId(secret). */
  readonly keyId?: string | undefined;
}

export interface MintTicketOptions {
  /** The ticket secret the gateway holds (its current one, or its previous one during a rotation). */
  secret: string;
  /** The rooms the ticket lets its holder subscribe to: 1 to 32 room ids. */
  rooms: readonly string[];
  /** How long the ticket admits connections, from `now`: more than 0, at most one day. */
  ttlMs: number;
  /** The key id to sign under. Default ticketKeyId(secret), which is what a gateway given the bare secret expects. */
  keyId?: string | undefined;
  /** The time of minting, epoch ms. Default Date.now(). */
  now?: number | undefined;
}

/** What a genuine, unexpired ticket grants. */
export interface TicketGrant {
  /** The rooms its holder may subscribe to. */
  readonly rooms: readonly string[];
  /** The key it was signed with. */
  readonly keyId: string;
  /** When it stops admitting connections (before the clock-skew allowance), epoch ms. */
  readonly expiresAtMs: number;
}

export interface VerifyTicketOptions {
  /** The secrets to accept: current first. */
  keys: TicketKeyring;
  /** The time now, epoch ms. Default Date.now(). */
  now?: number | undefined;
  /** How long after its expiry a ticket is still accepted. Default TICKET_CLOCK_SKEW_MS (10,000 ms). */
  clockSkewMs?: number | undefined;
}

const PayloadSchema = z
  .object({
    v: z.literal(1),
    kid: z.string().regex(KEY_ID_PATTERN),
    expMs: z.int().min(0),
    rooms: z.array(z.string().regex(ROOM_ID_PATTERN)).min(1).max(MAX_TICKET_ROOMS),
  })
  .strict();
type Payload = z.infer<typeof PayloadSchema>;

/** The key id derived from a secret: 8 base64url characters of a SHA-256 of it, which say nothing usable about it. */
export function ticketKeyId(secret: string): string {
  return createHash("sha256").update("room-watcher ticket key id\0").update(secret).digest("base64url").slice(0, 8);
}

/**
 * `value` if it can be a ticket secret, else a ConfigError naming `name` (never the value): printable
 * ASCII with no whitespace at either end (as a token; a secret read from a file often ends with a line
 * feed), at least MIN_TICKET_SECRET_CHARS long.
 */
export function validateTicketSecret(name: string, value: unknown): string {
  const secret = validateToken(name, value);
  if (secret.length < MIN_TICKET_SECRET_CHARS) {
    throw new ConfigError(`${name} has fewer than ${MIN_TICKET_SECRET_CHARS} characters: a ticket secret needs at least that many (for example 32 random bytes in base64url)`);
  }
  return secret;
}

function validateKeyId(name: string, value: unknown): string {
  return validateId(name, value, KEY_ID_PATTERN, KEY_ID_RULE);
}

/**
 * The secrets a gateway accepts tickets under, by key id: a current one and, during a rotation, the
 * previous one. The secrets are held as key objects, which print no key material if logged by mistake.
 */
export class TicketKeyring {
  readonly #keys = new Map<string, KeyObject>();

  /** Throws ConfigError on a secret too short, a bad key id, or two keys with one id (the same secret twice). */
  constructor(current: string | TicketKey, previous?: string | TicketKey, names: { readonly current: string; readonly previous: string } = { current: "ticketSecret", previous: "ticketSecretPrevious" }) {
    this.#add(names.current, current);
    if (previous !== undefined) this.#add(names.previous, previous);
  }

  /** The key ids held, current first. */
  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** The key named `keyId`, if held. */
  key(keyId: string): KeyObject | undefined {
    return this.#keys.get(keyId);
  }

  #add(name: string, key: string | TicketKey): void {
    const { secret, keyId } = typeof key === "string" ? { secret: key, keyId: undefined } : key;
    const checked = validateTicketSecret(name, secret);
    const id = keyId === undefined ? ticketKeyId(checked) : validateKeyId(`${name} key id`, keyId);
    if (this.#keys.has(id)) throw new ConfigError(`${name} has the key id ${id} of the current ticket secret: the previous secret must be another one, under another id`);
    this.#keys.set(id, createSecretKey(Buffer.from(checked, "utf8")));
  }
}

function sign(key: KeyObject | string, payloadText: string): string {
  return createHmac("sha256", key).update(payloadText).digest("base64url");
}

/**
 * A ticket for `rooms`, valid for `ttlMs` from `now`, signed with `secret`. Throws ConfigError (naming the
 * option, never the secret) on a short secret, a bad room id or key id, no rooms or too many, or a TTL
 * that is not more than 0 and at most MAX_TICKET_TTL_MS.
 */
export function mintTicket(options: MintTicketOptions): string {
  const secret = validateTicketSecret("secret", options.secret);
  const keyId = options.keyId === undefined ? ticketKeyId(secret) : validateKeyId("keyId", options.keyId);
  if (!Array.isArray(options.rooms)) throw new ConfigError("rooms must be an array of room ids");
  const rooms = [...new Set(options.rooms.map((roomId) => validateRoomId(roomId)))];
  if (rooms.length === 0) throw new ConfigError("rooms must name at least one room");
  if (rooms.length > MAX_TICKET_ROOMS) throw new ConfigError(`rooms names ${rooms.length} rooms; a ticket names at most ${MAX_TICKET_ROOMS}`);
  const ttlMs = validateDurationMs("ttlMs", options.ttlMs, { allowZero: false });
  if (ttlMs > MAX_TICKET_TTL_MS) throw new ConfigError(`ttlMs must be at most ${MAX_TICKET_TTL_MS} (one day), got ${ttlMs}`);
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now) || now < 0) throw new ConfigError(`now must be a time in epoch milliseconds, got ${String(now)}`);
  const payload: Payload = { v: 1, kid: keyId, expMs: Math.ceil(now + ttlMs), rooms };
  const payloadText = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
  const ticket = `${payloadText}.${sign(secret, payloadText)}`;
  if (ticket.length > MAX_TICKET_CHARS) {
    throw new ConfigError(`the ticket would be ${ticket.length} characters, over the ${MAX_TICKET_CHARS} a gateway reads: name fewer rooms (room ids are ${ROOM_ID_RULE})`);
  }
  return ticket;
}

/**
 * What `ticket` grants, if it is genuine (signed by a key in `keys`) and unexpired (within the
 * clock-skew allowance); else a TicketError whose `reason` says why. Checks, in order: size (before
 * decoding anything), shape, payload, key id, signature (in constant time), expiry. Never throws
 * anything else; its messages never contain the ticket.
 */
export function verifyTicket(ticket: unknown, options: VerifyTicketOptions): TicketGrant {
  if (typeof ticket === "string" && ticket.length > MAX_TICKET_CHARS) {
    throw new TicketError("oversized", `ticket is ${ticket.length} characters; tickets have at most ${MAX_TICKET_CHARS}`);
  }
  if (typeof ticket !== "string" || !TICKET_PATTERN.test(ticket)) throw new TicketError("malformed", "ticket is not base64url(payload).base64url(signature)");
  const dot = ticket.indexOf(".");
  const payloadText = ticket.slice(0, dot);
  const signature = ticket.slice(dot + 1);
  const payload = parsePayload(payloadText);
  const key = options.keys.key(payload.kid);
  if (key === undefined) throw new TicketError("unknown_key", `ticket signed with key id ${payload.kid}, which this gateway does not hold (a rotated-out or unknown secret)`);
  // Compared as text: the one canonical encoding of the expected signature, in constant time.
  const expected = Buffer.from(sign(key, payloadText), "ascii");
  const presented = Buffer.from(signature, "ascii");
  if (presented.length !== SIGNATURE_CHARS || !timingSafeEqual(presented, expected)) {
    throw new TicketError("bad_signature", presented.length < SIGNATURE_CHARS ? "ticket signature is truncated" : "ticket signature does not match: forged or altered");
  }
  const now = options.now ?? Date.now();
  const skewMs = validateDurationMs("clockSkewMs", options.clockSkewMs ?? TICKET_CLOCK_SKEW_MS);
  if (now > payload.expMs + skewMs) throw new TicketError("expired", `ticket expired ${Math.round((now - payload.expMs) / 1000)} s ago`);
  if (payload.expMs - now > MAX_TICKET_TTL_MS + skewMs) throw new TicketError("too_long_lived", `ticket expires more than ${MAX_TICKET_TTL_MS} ms (one day) from now`);
  return Object.freeze({ rooms: Object.freeze([...payload.rooms]), keyId: payload.kid, expiresAtMs: payload.expMs });
}

function parsePayload(payloadText: string): Payload {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payloadText, "base64url").toString("utf8"));
  } catch {
    throw new TicketError("malformed", "ticket payload is not base64url JSON");
  }
  const parsed = PayloadSchema.safeParse(json);
  if (!parsed.success) throw new TicketError("malformed", "ticket payload is not a room-watcher ticket's (v 1, kid, expMs, rooms)");
  return parsed.data;
}
