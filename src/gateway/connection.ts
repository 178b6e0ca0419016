/**
 * One client connection: parses its frames, enforces its limits (subscriptions, invalid messages,
 * send buffer), answers its pings, and is a subscriber of the room hub.
 */
import { WebSocket, type RawData } from "ws";
import type { GatewayLogger } from "./logging.js";
import type { ResolvedGatewayLimits } from "./limits.js";
import type { GatewayMetrics } from "./metrics.js";
import { encodeServerMessage, parseClientMessage, ProtocolErrorCode, type ServerMessage } from "../protocol/messages.js";
import { GatewayCloseCode } from "../protocol/close-codes.js";
import type { RoomHub, Subscriber } from "./room-hub.js";

export interface ConnectionContext {
  /** The only rooms this connection may subscribe to (its ticket's); undefined: any. */
  readonly rooms?: ReadonlySet<string> | undefined;
  readonly hub: RoomHub;
  readonly limits: ResolvedGatewayLimits;
  readonly metrics: GatewayMetrics;
  readonly logger: GatewayLogger;
  /** Told when the gateway closes this connection (not when the peer does). */
  readonly onClosing: (code: number, reason: string) => void;
}

/**
 * A connection's lifecycle: `open` (with which of its latest messages were invalid, and whether a ping
 * is waiting for its pong), `closing` (the gateway closed it: nothing more is read or sent) and `closed`
 * (the socket is closed, by either side).
 */
export type ConnectionState =
  | { readonly phase: "open"; readonly recent: MessageWindow; readonly pingUnanswered: boolean }
  | { readonly phase: "closing"; readonly code: number; readonly reason: string }
  | { readonly phase: "closed" };

export class GatewayConnection implements Subscriber {
  readonly id: number;
  readonly #ws: WebSocket;
  readonly #context: ConnectionContext;
  #state: ConnectionState;
  /** Rooms whose subscribe was refused. */
  readonly #refused = new Set<string>();

  constructor(id: number, ws: WebSocket, context: ConnectionContext) {
    this.id = id;
    this.#state = { phase: "open", recent: new MessageWindow(context.limits.invalidMessageWindow), pingUnanswered: false };
    this.#ws = ws;
    this.#context = context;
    ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on("pong", () => {
      if (this.#state.phase === "open") this.#state = { ...this.#state, pingUnanswered: false };
    });
    ws.once("close", () => {
      this.#state = { phase: "closed" };
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Whether nothing more may be sent: the gateway closed it, or the socket is no longer open. */
  get closing(): boolean {
    return this.#state.phase !== "open" || this.#ws.readyState !== WebSocket.OPEN;
  }

  send(text: string, type: ServerMessage["type"], learnedAtHr: number | undefined): void {
    const ws = this.#ws;
    if (this.closing) return;
    const { limits, metrics } = this.#context;
    // A consumer that does not read must not make us buffer without bound.
    if (ws.bufferedAmount + Buffer.byteLength(text) > limits.maxBufferedBytes) {
      this.close(GatewayCloseCode.SLOW_CONSUMER, "slow consumer: send buffer limit exceeded");
      return;
    }
    metrics.messagesSent.inc({ type });
    if (learnedAtHr === undefined) {
      ws.send(text);
      return;
    }
    ws.send(text, (error) => {
      if (error === undefined || error === null) metrics.pushLatency.observe((performance.now() - learnedAtHr) / 1000);
    });
  }

  /** Closes with a code; the hub forgets us once the socket has closed. */
  close(code: number, reason: string): void {
    if (this.#state.phase !== "open") return;
    this.#state = { phase: "closing", code, reason };
    this.#context.metrics.closes.inc({ code: String(code) });
    this.#context.logger.info({ connection: this.id, code, reason }, "closing connection");
    this.#ws.close(code, reason);
    this.#context.onClosing(code, reason);
  }

  /** One heartbeat: a peer that did not answer the previous ping is dead. */
  heartbeat(): void {
    const state = this.#state;
    // (The gateway's close puts the socket in CLOSING at once: a closing connection is not pinged.)
    if (this.#ws.readyState !== WebSocket.OPEN || state.phase !== "open") return;
    if (state.pingUnanswered) {
      this.#context.logger.info({ connection: this.id }, "no pong since the last ping; terminating");
      this.#context.metrics.closes.inc({ code: "heartbeat" });
      this.#ws.terminate();
      return;
    }
    this.#state = { ...state, pingUnanswered: true };
    this.#ws.ping();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const state = this.#state;
    if (state.phase !== "open") return;
    const { hub, metrics } = this.#context;
    if (isBinary) {
      metrics.protocolErrors.inc({ code: "binary" });
      this.close(GatewayCloseCode.UNSUPPORTED_DATA, "binary frames are not part of the protocol");
      return;
    }
    const parsed = parseClientMessage(textOf(data));
    const message = parsed.ok ? parsed.message : undefined;
    // A message the gateway cannot act on: malformed, or a subscribe it must refuse.
    const error: Extract<ServerMessage, { type: "error" }> | undefined = !parsed.ok
      ? { type: "error", code: parsed.code, message: parsed.detail }
      : message?.type === "subscribe"
        ? this.#subscribeRefusal(message.roomId)
        : undefined;
    // Counted over a window, not a run: valid messages between invalid ones do not reset it. A refused
    // subscribe counts when asked again: a client that keeps asking past its limits is flooding, while one
    // that resubscribes its rooms after a reconnect, over a limit, is told once per room.
    const invalid = state.recent.record(!parsed.ok || (error !== undefined && message?.type === "subscribe" && this.#refusedBefore(message.roomId)));
    if (error !== undefined) {
      metrics.protocolErrors.inc({ code: error.code });
      if (invalid >= this.#context.limits.maxInvalidMessages) {
        this.close(GatewayCloseCode.PROTOCOL_VIOLATION, "too many invalid messages");
        return;
      }
      this.#reply(error);
      return;
    }
    if (message?.type === "subscribe") hub.subscribe(this, message.roomId);
    else if (message?.type === "unsubscribe") hub.unsubscribe(this, message.roomId);
  }

  /** Whether a subscribe to `roomId` was refused before (remembering it now); at most as many rooms as a connection may hold. */
  #refusedBefore(roomId: string): boolean {
    if (this.#refused.has(roomId)) return true;
    if (this.#refused.size >= this.#context.limits.maxSubscriptionsPerConnection) this.#refused.clear();
    this.#refused.add(roomId);
    return false;
  }

  /** Why a subscribe to `roomId` is refused (the error to answer), or undefined when it may go ahead. */
  #subscribeRefusal(roomId: string): Extract<ServerMessage, { type: "error" }> | undefined {
    const { hub, limits, metrics, rooms } = this.#context;
    // Refused before anything else looks at the room: it costs no upstream request.
    if (rooms !== undefined && !rooms.has(roomId)) return { type: "error", code: ProtocolErrorCode.ROOM_NOT_IN_TICKET, message: "this connection's ticket does not name this room", roomId };
    const refusal = hub.refusal(roomId);
    if (refusal !== undefined) return { type: "error", code: ProtocolErrorCode.BAD_MESSAGE, message: refusal, roomId };
    if (!hub.isSubscribed(this, roomId) && hub.countOf(this) >= limits.maxSubscriptionsPerConnection) {
      return { type: "error", code: ProtocolErrorCode.TOO_MANY_SUBSCRIPTIONS, message: `at most ${limits.maxSubscriptionsPerConnection} subscriptions per connection`, roomId };
    }
    const limit = this.#roomLimit(roomId);
    if (limit === undefined) return undefined;
    metrics.refusals.inc({ reason: limit.reason });
    return { type: "error", code: ProtocolErrorCode.TOO_MANY_SUBSCRIPTIONS, message: limit.message, roomId };
  }

  /**
   * The limits on rooms nobody has seen (anyone may name a million): a connection may wait on so many
   * of them at once, and the gateway watches so many rooms in all. Rooms seen to exist, and rooms
   * remembered as not found, cost nothing more and are never refused here.
   */
  #roomLimit(roomId: string): { readonly reason: "room_limit" | "unseen_limit"; readonly message: string } | undefined {
    const { hub, limits } = this.#context;
    if (hub.isSubscribed(this, roomId)) return undefined;
    const cost = hub.costOf(roomId);
    if (cost === "free") return undefined;
    if (hub.unseenCountOf(this) >= limits.maxUnseenRoomsPerConnection) {
      return { reason: "unseen_limit", message: `at most ${limits.maxUnseenRoomsPerConnection} rooms not yet seen to exist per connection` };
    }
    if (cost === "new" && hub.rooms >= limits.maxRooms) return { reason: "room_limit", message: `the gateway watches ${limits.maxRooms} rooms, its limit; try again later` };
    return undefined;
  }

  #reply(message: ServerMessage): void {
    this.send(encodeServerMessage(message), message.type, undefined);
  }
}

/** Which of a connection's latest messages were invalid: a ring of the last `size`, and how many of them were. */
export class MessageWindow {
  readonly #invalid: Uint8Array;
  #next = 0;
  #count = 0;

  constructor(size: number) {
    this.#invalid = new Uint8Array(size);
  }

  /** Records one message; returns how many of the last `size` (this one included) were invalid. */
  record(invalid: boolean): number {
    const slot = this.#next;
    this.#count += (invalid ? 1 : 0) - (this.#invalid[slot] ?? 0);
    this.#invalid[slot] = invalid ? 1 : 0;
    this.#next = (slot + 1) % this.#invalid.length;
    return this.#count;
  }
}

/** The close code the ws library closes a connection with for one of its errors (its `WS_ERR_*` codes); undefined for others. */
export function libraryCloseCode(error: Error): number | undefined {
  return WS_ERROR_CLOSE_CODES[(error as Error & { code?: unknown }).code as string];
}

const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_INVALID_OPCODE: 1002,
  WS_ERR_UNEXPECTED_RSV_1: 1002,
  WS_ERR_UNEXPECTED_RSV_2_3: 1002,
  WS_ERR_EXPECTED_FIN: 1002,
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: 1002,
  WS_ERR_EXPECTED_MASK: 1002,
  WS_ERR_UNEXPECTED_MASK: 1002,
  WS_ERR_INVALID_CLOSE_CODE: 1002,
};

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data)).toString("utf8");
  return data.toString("utf8");
}
