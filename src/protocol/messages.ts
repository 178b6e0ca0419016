/**
 * The gateway protocol, version 1: JSON text frames, validated with zod in both directions and
 * versioned by the WebSocket subprotocol `room-watcher.v1`. The gateway pushes what its one upstream
 * watch of a room observes (the same provider-neutral observations a poll returns), so each client
 * runs its own state machine on them exactly as if it had polled. docs/protocol.md is the
 * reader's version of this file.
 */
import { z } from "zod";
import type { ExposedPort, PollResult } from "../core/observation.js";
import { END_REASONS, type EndReason } from "../core/observation.js";
import { ROOM_ID_PATTERN, ROOM_ID_RULE } from "../core/validate.js";

/** A room id on the wire: what every provider's ids fit, and nothing that could reach another path. */
const RoomIdSchema = z.string().regex(ROOM_ID_PATTERN, `must be ${ROOM_ID_RULE}`);

/** A port on the wire, whichever provider it came from; the transport type is an open enum. */
const ExposedPortSchema: z.ZodType<ExposedPort> = z.object({
  transportType: z.string().min(1),
  port: z.int().min(0).max(65_535),
  host: z.string().min(1),
  name: z.string(),
});

/** The WebSocket subprotocol a client must offer; a new incompatible protocol gets a new name. */
export const GATEWAY_SUBPROTOCOL = "room-watcher.v1";

/** The `code` of an `error` message: the gateway could not act on a client message. */
export const ProtocolErrorCode = {
  /** Not JSON. */
  BAD_JSON: "bad_json",
  /** JSON, but no known message type. */
  UNKNOWN_TYPE: "unknown_type",
  /** A known type with invalid fields (a malformed room id, say). */
  BAD_MESSAGE: "bad_message",
  /** The connection already has `maxSubscriptionsPerConnection` rooms. */
  TOO_MANY_SUBSCRIPTIONS: "too_many_subscriptions",
  /** The connection came in with a room ticket, and the ticket does not name this room. */
  ROOM_NOT_IN_TICKET: "room_not_in_ticket",
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

// ---- Observations on the wire ----

const ConnectionSchema = z.object({
  exposedPort: ExposedPortSchema,
  additionalExposedPorts: z.array(ExposedPortSchema).max(8),
});

const EndReasonSchema = z.enum(END_REASONS as [EndReason, ...EndReason[]]);
/** The host's own word for the state a room ended in (Agones `Shutdown`, Edgegap `ERROR`). */
const HostStateSchema = z.string().max(200);
/** What the host said went wrong. */
const DetailSchema = z.string().max(2000);

export const ObservationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("starting") }),
  z.object({ kind: z.literal("active"), connection: ConnectionSchema }),
  z.object({ kind: z.literal("not_found") }),
  z.object({ kind: z.literal("ended"), reason: EndReasonSchema, hostState: HostStateSchema.optional(), detail: DetailSchema.optional() }),
  z.object({ kind: z.literal("unrecognized"), status: z.string().max(200) }),
]);

export const WarningSchema = z.object({
  code: z.enum(["UNKNOWN_STATUS", "UNKNOWN_TRANSPORT_TYPE"]),
  message: z.string().max(1000),
  value: z.string().max(200),
});

export const PollResultSchema = z.object({
  observation: ObservationSchema,
  warnings: z.array(WarningSchema).max(16),
});

/** A terminal error of a room, as far as it can cross the wire: code and message, never headers or tokens. */
export const WireErrorSchema = z.object({
  code: z.string().max(100),
  message: z.string().max(2000),
  status: z.int().optional(),
});
export type WireError = z.infer<typeof WireErrorSchema>;

// ---- Client to gateway ----

export const SubscribeMessageSchema = z.object({ type: z.literal("subscribe"), roomId: RoomIdSchema });
export const UnsubscribeMessageSchema = z.object({ type: z.literal("unsubscribe"), roomId: RoomIdSchema });
export const ClientMessageSchema = z.discriminatedUnion("type", [SubscribeMessageSchema, UnsubscribeMessageSchema]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
const CLIENT_MESSAGE_TYPES: readonly string[] = ["subscribe", "unsubscribe"];

// ---- Gateway to client ----

const seq = z.int().min(0);
/** Epoch ms at which the gateway learned what the message says. */
const at = z.number();

export const WelcomeMessageSchema = z.object({
  type: z.literal("welcome"),
  protocol: z.literal(GATEWAY_SUBPROTOCOL),
  /** The gateway pings this often; a client may call a connection dead after a few silent intervals. */
  heartbeatIntervalMs: z.number().min(0),
  maxSubscriptionsPerConnection: z.int().min(1),
});
/** The room's current state, first on subscribe: everything a (re)connecting client needs. */
export const SnapshotMessageSchema = z.object({
  type: z.literal("snapshot"),
  roomId: RoomIdSchema,
  seq,
  /** null until the gateway's first look at the room has answered. */
  result: PollResultSchema.nullable(),
  at: at.nullable(),
});
/** A change: `seq` is one more than the room's previous message. */
export const UpdateMessageSchema = z.object({ type: z.literal("update"), roomId: RoomIdSchema, seq, result: PollResultSchema, at });
/** A transient upstream failure; the gateway retries on its own. Not sequenced. */
export const FailureMessageSchema = z.object({
  type: z.literal("failure"),
  roomId: RoomIdSchema,
  error: WireErrorSchema,
  attempt: z.int().min(1),
  nextDelayMs: z.number().min(0),
  at,
});
/** The gateway stopped watching the room (its state machine ended it) and dropped every subscription to it. */
export const EndedMessageSchema = z.object({
  type: z.literal("ended"),
  roomId: RoomIdSchema,
  seq,
  /** What the host said (an end reason), `not_found`, or `failed` (a terminal error). */
  reason: z.enum(["not_found", "failed", ...END_REASONS] as const),
  /** For `failed`: what ended it. */
  error: WireErrorSchema.optional(),
  /** For an end reason: the host's own word for the state, when it gave one. */
  hostState: HostStateSchema.optional(),
  /** For an end reason: what the host said went wrong, when it said. */
  detail: DetailSchema.optional(),
  at,
});
/** The gateway could not act on a client message; the connection stays open. */
export const ErrorMessageSchema = z.object({
  type: z.literal("error"),
  code: z.enum(Object.values(ProtocolErrorCode) as [ProtocolErrorCode, ...ProtocolErrorCode[]]),
  message: z.string().max(2000),
  roomId: RoomIdSchema.optional(),
});
export const ServerMessageSchema = z.discriminatedUnion("type", [
  WelcomeMessageSchema,
  SnapshotMessageSchema,
  UpdateMessageSchema,
  FailureMessageSchema,
  EndedMessageSchema,
  ErrorMessageSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;
export type SnapshotMessage = z.infer<typeof SnapshotMessageSchema>;
export type UpdateMessage = z.infer<typeof UpdateMessageSchema>;
export type FailureMessage = z.infer<typeof FailureMessageSchema>;
export type EndedMessage = z.infer<typeof EndedMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

export type ParseOutcome<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly code: ProtocolErrorCode; readonly detail: string; readonly roomId?: string | undefined };

function jsonOf(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/** Parses one client frame. Never throws. */
export function parseClientMessage(text: string): ParseOutcome<ClientMessage> {
  const json = jsonOf(text);
  if (!json.ok) return { ok: false, code: ProtocolErrorCode.BAD_JSON, detail: "frame is not JSON" };
  const type = typeof json.value === "object" && json.value !== null ? (json.value as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !CLIENT_MESSAGE_TYPES.includes(type)) {
    return { ok: false, code: ProtocolErrorCode.UNKNOWN_TYPE, detail: `unknown message type ${JSON.stringify(type ?? null).slice(0, 60)}` };
  }
  const parsed = ClientMessageSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, code: ProtocolErrorCode.BAD_MESSAGE, detail: `invalid ${type} message (${issues(parsed.error)})` };
  return { ok: true, message: parsed.data };
}

/** Parses one gateway frame. Never throws; an unknown type is reported like any bad frame. */
export function parseServerMessage(text: string): ParseOutcome<ServerMessage> {
  const json = jsonOf(text);
  if (!json.ok) return { ok: false, code: ProtocolErrorCode.BAD_JSON, detail: "frame is not JSON" };
  const parsed = ServerMessageSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, code: ProtocolErrorCode.BAD_MESSAGE, detail: `invalid gateway message (${issues(parsed.error)})` };
  return { ok: true, message: parsed.data };
}

/** Serialises a gateway message. The types guarantee the shape; tests check it against the schema. */
export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

export type WirePollResult = z.infer<typeof PollResultSchema>;

/** A PollResult as the wire schema types it (the same shape, with mutable arrays). */
export function toWireResult(result: PollResult): WirePollResult {
  const { observation } = result;
  return {
    observation:
      observation.kind === "active"
        ? { kind: "active", connection: { exposedPort: observation.connection.exposedPort, additionalExposedPorts: [...observation.connection.additionalExposedPorts] } }
        : observation,
    warnings: [...result.warnings],
  };
}
