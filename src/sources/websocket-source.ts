/**
 * A push source on a room-watcher gateway: one WebSocket per source, shared by every room subscribed
 * through it. It reconnects with capped, jittered backoff and resubscribes; the snapshot each
 * subscription starts with carries whatever changed while it was away, so no terminal event is lost;
 * a gap in a room's sequence numbers triggers a resync; a watchdog calls a silent connection dead; a
 * close whose cause is on our side (closeFate "give-up": 4401, 4403, 4410, 4400, 1003, 1009) fails every room
 * instead of being retried. Its `connected` and `disconnected` events say when it can deliver, which is
 * what `withFallback` needs to poll in its place.
 */
import { EventEmitter } from "eventemitter3";
import { retryDelayMs } from "../core/backoff.js";
import { type Clock, systemClock } from "../core/clock.js";
import type { SourceTarget } from "../core/evidence.js";
import type { PollResult } from "../core/observation.js";
import { safeEmit } from "../core/safe-emit.js";
import { checkSequence } from "../protocol/sequence.js";
import { redactSecrets } from "../core/redact.js";
import { TimerHeap, type TimerHandle } from "../core/timer-heap.js";
import { ConfigError, ErrorCode, GatewayError, HttpError, type RoomWatcherError } from "../core/errors.js";
import { encodeClientMessage, GATEWAY_SUBPROTOCOL, parseServerMessage, type ServerMessage, type WireError } from "../protocol/messages.js";
import { closeFate, GatewayCloseCode } from "../protocol/close-codes.js";
import { isTicketShaped, MAX_TICKET_CHARS, ticketSubprotocol } from "../protocol/ticket-format.js";
import type { PushSource, SourceListener } from "../core/source.js";
import { validateDurationMs, validateRoomId, validateToken } from "../core/validate.js";
import { chooseWebSocket, type GatewaySocket, loadSocketFactory, type SocketFactory, type WebSocketImplementation } from "./gateway-socket.js";

export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 250;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Watchdog before the gateway has said how often it pings. */
export const DEFAULT_STALE_AFTER_MS = 45_000;
/** After the gateway gave up on a room as not found, ask again this much later (as a poll would). */
export const DEFAULT_NOT_FOUND_RECHECK_MS = 1_000;
const CLOSE_GRACE_MS = 2_000;
const MAX_GATEWAY_FRAME_BYTES = 1024 * 1024;

export interface WebSocketSourceOptions {
  /** The gateway's WebSocket URL (ws:// or wss://), as `room-watcher gateway` prints it. */
  url: string;
  /** The gateway's client token, sent as `Authorization: Bearer`. Never logged or put in an error. */
  token?: string | undefined;
  /**
   * A room ticket from your backend (`mintTicket` of room-watcher/gateway), presented as the subprotocol
   * entry `ticket.<ticket>`, which any WebSocket can send (a browser's cannot send the token). The gateway
   * then serves only the rooms it names. Not with `token`. Never logged or put in an error. Default none.
   */
  ticket?: string | undefined;
  /**
   * Which WebSocket to use: "global" (the runtime's standard one) or "ws" (the package, imported on the first
   * connect; it can send the token as a header and sees the gateway's pings). Default "ws" with a token or
   * on a runtime without a global WebSocket (Node 20), else "global".
   */
  webSocket?: "global" | "ws" | undefined;
  /** First reconnect delay (doubling, equal jitter). Default 250 ms. */
  initialReconnectDelayMs?: number | undefined;
  /** Cap of the reconnect delay. Default 10,000 ms. */
  maxReconnectDelayMs?: number | undefined;
  /** Give up on a connection attempt after this long. Default 10,000 ms. */
  connectTimeoutMs?: number | undefined;
  /**
   * A connection silent this long (no message, no ping) is dead. Default 3 gateway heartbeats, 45,000 ms before
   * the first welcome; none after it on the standard WebSocket, which answers the gateway's pings unseen.
   */
  staleAfterMs?: number | undefined;
  /** Ask again this long after the gateway ended a room as not found. Default 1,000 ms. */
  notFoundRecheckMs?: number | undefined;
  /** Time source. Default the system clock. */
  clock?: Clock | undefined;
  /** Uniform random numbers in [0, 1) for jitter. Default Math.random. */
  random?: (() => number) | undefined;
}

/** The connection to the gateway was lost (or an attempt failed); the next attempt is in `nextDelayMs`. */
export interface DisconnectedEvent {
  /** The WebSocket close code (1006 when the connection broke or never opened). */
  readonly code: number;
  /** Failed attempts in a row, 1 for the first. */
  readonly attempt: number;
  readonly nextDelayMs: number;
  readonly at: number;
}

export interface WebSocketSourceEvents {
  /** The gateway welcomed us (first connection or reconnection); rooms are being resubscribed. */
  connected: [event: { readonly at: number }];
  /** The connection was lost or an attempt failed, and another is scheduled (not after a give-up close). */
  disconnected: [event: DisconnectedEvent];
}

/** One room on the wire; any number of local listeners (fleets) share it. */
interface RoomSubscription {
  readonly roomId: string;
  readonly listeners: Set<SourceListener>;
  /** The latest result, replayed to a listener that joins later. */
  last: { readonly result: PollResult; readonly at: number } | undefined;
  /** Sequence number of the last message applied on the current connection. */
  lastSeq: number | undefined;
  /** Between (re)subscribing and its snapshot, updates are ignored: the snapshot supersedes them. */
  awaitingSnapshot: boolean;
  /** The gateway failed the room: nothing more will be said about it. */
  ended: boolean;
  recheck: TimerHandle | undefined;
}

/** `connecting` until the socket opens (and, the first time, while ws is imported), `open` until the welcome. */
type Phase = "idle" | "connecting" | "open" | "welcomed" | "waiting";

export class WebSocketSource extends EventEmitter<WebSocketSourceEvents> implements PushSource {
  readonly kind = "push";
  readonly key: string;
  readonly url: string;
  readonly #token: string | undefined;
  readonly #ticket: string | undefined;
  readonly #implementation: WebSocketImplementation;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #timers: TimerHeap;
  readonly #reconnect: { readonly initialRetryDelayMs: number; readonly maxRetryDelayMs: number; readonly maxRetryAfterMs: number };
  readonly #connectTimeoutMs: number;
  readonly #staleAfterOption: number | undefined;
  readonly #notFoundRecheckMs: number;
  readonly #rooms = new Map<string, RoomSubscription>();
  #phase: Phase = "idle";
  /** Set once the implementation is loaded; `#loading` while it is being imported. */
  #socketFactory: SocketFactory | undefined;
  #loading: Promise<SocketFactory> | undefined;
  #ws: GatewaySocket | undefined;
  #failures = 0;
  /** Undefined: no watchdog (a standard WebSocket after a welcome that announced pings we cannot see). */
  #staleAfterMs: number | undefined;
  #lastHeardAt = 0;
  #connectTimer: TimerHandle | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #watchdog: TimerHandle | undefined;
  /** Set while we close the socket ourselves (last room gone); resolved on its close. */
  #closing: { promise: Promise<void>; resolve: () => void; grace: TimerHandle } | undefined;

  constructor(options: WebSocketSourceOptions) {
    super();
    this.url = validateGatewayUrl(options.url);
    this.key = `gateway:${this.url}`;
    this.#token = options.token === undefined ? undefined : validateToken("token", options.token);
    this.#ticket = options.ticket === undefined ? undefined : validateTicket(options.ticket);
    if (this.#token !== undefined && this.#ticket !== undefined) throw new ConfigError("give token or ticket, not both: a client presents one credential");
    this.#implementation = chooseWebSocket(options.webSocket, this.#token !== undefined);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#timers = new TimerHeap(this.#clock);
    const initialRetryDelayMs = validateDurationMs("initialReconnectDelayMs", options.initialReconnectDelayMs ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS, { allowZero: false });
    const maxRetryDelayMs = validateDurationMs("maxReconnectDelayMs", options.maxReconnectDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS, { allowZero: false });
    if (maxRetryDelayMs < initialRetryDelayMs) throw new ConfigError("maxReconnectDelayMs must not be below initialReconnectDelayMs");
    this.#reconnect = { initialRetryDelayMs, maxRetryDelayMs, maxRetryAfterMs: maxRetryDelayMs };
    this.#connectTimeoutMs = validateDurationMs("connectTimeoutMs", options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, { allowZero: false });
    this.#staleAfterOption = options.staleAfterMs === undefined ? undefined : validateDurationMs("staleAfterMs", options.staleAfterMs, { allowZero: false });
    this.#staleAfterMs = this.#staleAfterOption ?? DEFAULT_STALE_AFTER_MS;
    this.#notFoundRecheckMs = validateDurationMs("notFoundRecheckMs", options.notFoundRecheckMs ?? DEFAULT_NOT_FOUND_RECHECK_MS, { allowZero: false });
  }

  /** What never leaves in a message: the token and the ticket. */
  get #secrets(): readonly (string | undefined)[] {
    return [this.#token, this.#ticket];
  }

  /** Whether the gateway has welcomed the current connection. */
  get connected(): boolean {
    return this.#phase === "welcomed";
  }

  /** Timers pending (reconnect, watchdog, rechecks): 0 once every room is unsubscribed. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  target(): SourceTarget {
    return { name: "the gateway", url: this.url };
  }

  subscribe(roomId: string, listener: SourceListener): { unsubscribe(): Promise<void> } {
    validateRoomId(roomId);
    const existing = this.#rooms.get(roomId);
    let room: RoomSubscription;
    if (existing !== undefined && !existing.ended) {
      // Another fleet already follows this room through us: share it, starting from what we know.
      room = existing;
      room.listeners.add(listener);
      if (room.last !== undefined) listener.onResult(room.last.result, room.last.at);
    } else {
      room = { roomId, listeners: new Set([listener]), last: undefined, lastSeq: undefined, awaitingSnapshot: true, ended: false, recheck: undefined };
      this.#rooms.set(roomId, room);
      if (this.#phase === "idle") this.#connect();
      else if (this.#phase === "welcomed") this.#send({ type: "subscribe", roomId });
    }
    const joined = room;
    let done: Promise<void> | undefined;
    return {
      unsubscribe: () => {
        if (done === undefined) {
          joined.listeners.delete(listener);
          done = joined.listeners.size === 0 ? this.#unsubscribe(joined) : Promise.resolve();
        }
        return done;
      },
    };
  }

  async #unsubscribe(room: RoomSubscription): Promise<void> {
    room.recheck?.cancel();
    room.recheck = undefined;
    room.ended = true;
    // A failed room since replaced by a fresh subscription has nothing left on the wire.
    if (this.#rooms.get(room.roomId) !== room) return;
    this.#rooms.delete(room.roomId);
    if (this.#rooms.size === 0) await this.#disconnect();
    else if (this.#phase === "welcomed") this.#send({ type: "unsubscribe", roomId: room.roomId });
  }

  #connect(): void {
    this.#phase = "connecting";
    const factory = this.#socketFactory;
    if (factory !== undefined) {
      this.#open(factory);
      return;
    }
    this.#loading ??= loadSocketFactory(this.#implementation, this.#token !== undefined);
    this.#loading.then(
      (loaded) => {
        this.#socketFactory = loaded;
        // Unless every room left (or another connect got here first) while it loaded.
        if (this.#phase === "connecting" && this.#ws === undefined) this.#open(loaded);
      },
      (error: unknown) => {
        if (this.#phase !== "connecting" || this.#ws !== undefined) return;
        // No WebSocket will ever carry our token here: retrying cannot help.
        this.#phase = "idle";
        const now = this.#clock.now();
        for (const room of [...this.#rooms.values()]) this.#fail(room, error, now);
      },
    );
  }

  #open(factory: SocketFactory): void {
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let lastError: unknown;
    // The handlers run only after the factory returned: every event of a socket is asynchronous.
    const socket: { current: GatewaySocket | undefined } = { current: undefined };
    const terminate = (): void => socket.current?.terminate();
    try {
      socket.current = factory(
        { url: this.url, protocols: this.#ticket === undefined ? [GATEWAY_SUBPROTOCOL] : [GATEWAY_SUBPROTOCOL, ticketSubprotocol(this.#ticket)], headers, maxPayloadBytes: MAX_GATEWAY_FRAME_BYTES },
        {
          onOpen: () => {
            this.#connectTimer?.cancel();
            this.#connectTimer = undefined;
            this.#phase = "open";
            this.#heard();
          },
          onText: (text) => {
            this.#heard();
            this.#onMessage(text, terminate);
          },
          onBinary: () => {
            this.#heard();
            terminate();
          },
          onPing: () => this.#heard(),
          onError: (error) => {
            lastError = error;
          },
          onClose: (code, reason) => this.#onClosed(socket.current, code, reason, lastError),
        },
      );
    } catch (error) {
      // Only a malformed URL throws here, and the constructor validated it; treat anything else as a failed attempt.
      this.#ws = undefined;
      this.#onClosed(undefined, 1006, "", error);
      return;
    }
    this.#ws = socket.current;
    this.#connectTimer = this.#timers.after(this.#connectTimeoutMs, () => {
      this.#connectTimer = undefined;
      terminate();
    });
  }

  #onMessage(text: string, terminate: () => void): void {
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      // A gateway that breaks the protocol cannot be trusted with the rest of the stream: start over.
      terminate();
      return;
    }
    this.#dispatch(parsed.message);
  }

  #dispatch(message: ServerMessage): void {
    const now = this.#clock.now();
    switch (message.type) {
      case "welcome": {
        this.#phase = "welcomed";
        this.#failures = 0;
        if (this.#staleAfterOption === undefined && message.heartbeatIntervalMs > 0) {
          // Now that we know how often the gateway pings, judge silence by that, if we can see the pings at all.
          const staleAfterMs = this.#ws?.seesPings === false ? undefined : 3 * message.heartbeatIntervalMs;
          if (staleAfterMs !== this.#staleAfterMs) {
            this.#staleAfterMs = staleAfterMs;
            this.#watchdog?.cancel();
            this.#watchdog = undefined;
            if (staleAfterMs !== undefined) this.#armWatchdog(staleAfterMs);
          }
        }
        for (const room of this.#rooms.values()) {
          if (room.ended) continue;
          room.awaitingSnapshot = true;
          room.lastSeq = undefined;
          this.#send({ type: "subscribe", roomId: room.roomId });
        }
        safeEmit(this, "connected", Object.freeze({ at: now }));
        return;
      }
      case "snapshot": {
        const room = this.#live(message.roomId);
        if (room === undefined) return;
        room.awaitingSnapshot = false;
        room.lastSeq = message.seq;
        if (message.result !== null) this.#tell(room, message.result, now);
        return;
      }
      case "update": {
        const room = this.#live(message.roomId);
        if (room === undefined || room.awaitingSnapshot) return;
        const check = checkSequence(room.lastSeq, message.seq);
        if (check === "stale") return;
        if (check === "gap") {
          this.#resync(room);
          return;
        }
        room.lastSeq = message.seq;
        this.#tell(room, message.result, now);
        return;
      }
      case "ended": {
        const room = this.#live(message.roomId);
        if (room === undefined) return;
        room.lastSeq = undefined;
        room.awaitingSnapshot = true;
        switch (message.reason) {
          case "not_found":
            // The gateway stopped looking; we have not necessarily stopped waiting (our grace is our own).
            this.#tell(room, { observation: { kind: "not_found" }, warnings: [] }, now);
            this.#scheduleRecheck(room);
            return;
          case "failed":
            this.#fail(room, errorFromWire(message.error, this.#secrets), now);
            return;
          default: {
            const { reason, hostState, detail } = message;
            this.#tell(room, { observation: { kind: "ended", reason, hostState, detail }, warnings: [] }, now);
            return;
          }
        }
      }
      case "failure": {
        const room = this.#live(message.roomId);
        if (room === undefined) return;
        const failure = Object.freeze({ error: errorFromWire(message.error, this.#secrets, true), attempt: message.attempt, nextDelayMs: message.nextDelayMs, at: now });
        for (const listener of [...room.listeners]) listener.onTransientFailure(failure);
        return;
      }
      case "error": {
        const room = message.roomId === undefined ? undefined : this.#live(message.roomId);
        if (room !== undefined && (message.code === "too_many_subscriptions" || message.code === "room_not_in_ticket")) {
          this.#fail(room, new GatewayError("refused", `gateway refused the subscription: ${message.message}`), now);
        }
        return;
      }
    }
  }

  #live(roomId: string): RoomSubscription | undefined {
    const room = this.#rooms.get(roomId);
    return room === undefined || room.ended ? undefined : room;
  }

  #tell(room: RoomSubscription, result: PollResult, at: number): void {
    room.last = { result, at };
    for (const listener of [...room.listeners]) listener.onResult(result, at);
  }

  /** The room is over for every listener: tell them once. */
  #fail(room: RoomSubscription, error: unknown, at: number): void {
    if (room.ended) return;
    room.ended = true;
    for (const listener of [...room.listeners]) listener.onFatal(error, at);
  }

  #resync(room: RoomSubscription): void {
    room.awaitingSnapshot = true;
    room.lastSeq = undefined;
    this.#send({ type: "subscribe", roomId: room.roomId });
  }

  #scheduleRecheck(room: RoomSubscription): void {
    room.recheck?.cancel();
    room.recheck = this.#timers.after(this.#notFoundRecheckMs, () => {
      room.recheck = undefined;
      if (this.#rooms.get(room.roomId) === room && !room.ended && this.#phase === "welcomed") this.#send({ type: "subscribe", roomId: room.roomId });
    });
  }

  #heard(): void {
    this.#lastHeardAt = this.#clock.now();
    if (this.#watchdog === undefined && this.#staleAfterMs !== undefined) this.#armWatchdog(this.#staleAfterMs);
  }

  /** One timer per connection: when it fires it checks how long we have been without news. */
  #armWatchdog(delayMs: number): void {
    this.#watchdog = this.#timers.after(delayMs, () => {
      this.#watchdog = undefined;
      const ws = this.#ws;
      const staleAfterMs = this.#staleAfterMs;
      if (ws === undefined || staleAfterMs === undefined || (this.#phase !== "open" && this.#phase !== "welcomed")) return;
      const silentMs = this.#clock.now() - this.#lastHeardAt;
      if (silentMs >= staleAfterMs) ws.terminate();
      else this.#armWatchdog(staleAfterMs - silentMs);
    });
  }

  #onClosed(ws: GatewaySocket | undefined, code: number, reason: string, cause: unknown): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#connectTimer?.cancel();
    this.#connectTimer = undefined;
    this.#watchdog?.cancel();
    this.#watchdog = undefined;
    const now = this.#clock.now();
    const closing = this.#closing;
    if (closing !== undefined) {
      this.#closing = undefined;
      closing.grace.cancel();
      closing.resolve();
    }
    if (this.#rooms.size === 0) {
      this.#phase = "idle";
      return;
    }
    if (closing !== undefined) {
      // Rooms were subscribed while we were closing: start afresh.
      this.#connect();
      return;
    }
    for (const room of this.#rooms.values()) {
      room.awaitingSnapshot = true;
      room.lastSeq = undefined;
    }
    if (closeFate(code) === "give-up") {
      // The cause is on our side (the token, what we sent): the same connection would be closed the same way.
      this.#phase = "idle";
      const error = giveUpError(code, redactSecrets(reason, this.#secrets));
      for (const room of [...this.#rooms.values()]) this.#fail(room, error, now);
      return;
    }
    this.#failures++;
    const nextDelayMs = retryDelayMs(this.#failures, this.#reconnect, this.#random);
    const detail = cause instanceof Error ? `: ${redactSecrets(cause.message, this.#secrets)}` : "";
    const error = new GatewayError("connection", `gateway connection lost (close code ${code})${detail}`, { closeCode: code });
    this.#phase = "waiting";
    this.#reconnectTimer = this.#timers.after(nextDelayMs, () => {
      this.#reconnectTimer = undefined;
      if (this.#rooms.size > 0) this.#connect();
      else this.#phase = "idle";
    });
    const failure = Object.freeze({ error, attempt: this.#failures, nextDelayMs, at: now });
    safeEmit(this, "disconnected", Object.freeze({ code, attempt: this.#failures, nextDelayMs, at: now }));
    for (const room of [...this.#rooms.values()]) {
      if (!room.ended) for (const listener of [...room.listeners]) listener.onTransientFailure(failure);
    }
  }

  /** Ends the connection and every timer; resolves once the socket has closed. */
  #disconnect(): Promise<void> {
    this.#reconnectTimer?.cancel();
    this.#reconnectTimer = undefined;
    this.#failures = 0;
    const ws = this.#ws;
    if (ws === undefined) {
      this.#phase = "idle";
      return Promise.resolve();
    }
    if (this.#closing !== undefined) return this.#closing.promise;
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    // A peer that never answers our close must not hold the caller: drop the socket after a grace.
    const grace = this.#timers.after(CLOSE_GRACE_MS, () => ws.terminate());
    this.#closing = { promise, resolve, grace };
    if (ws.isOpen) ws.close(GatewayCloseCode.NORMAL, "no more rooms");
    else ws.terminate();
    return promise;
  }

  #send(message: Parameters<typeof encodeClientMessage>[0]): void {
    const ws = this.#ws;
    if (ws?.isOpen === true) ws.send(encodeClientMessage(message));
  }
}

/** Why the gateway closed us for good: its token check (4401), its ticket check (4403, 4410), or something we sent that it will refuse again. */
function giveUpError(code: number, reason: string): GatewayError {
  if (code === GatewayCloseCode.UNAUTHORIZED) return new GatewayError("unauthorized", "the gateway refused our token (close code 4401)", { closeCode: code });
  if (code === GatewayCloseCode.TICKET_EXPIRED) return new GatewayError("ticket_expired", "our room ticket has expired (close code 4410): get a new one", { closeCode: code });
  if (code === GatewayCloseCode.TICKET_INVALID) {
    return new GatewayError("ticket_refused", `the gateway refused our room ticket (close code 4403${reason === "" ? "" : `: ${reason.slice(0, 123)}`})`, { closeCode: code });
  }
  const name = Object.entries(GatewayCloseCode).find(([, value]) => value === code)?.[0] ?? "unknown";
  return new GatewayError("rejected", `the gateway rejected this client (close code ${code}, ${name}); reconnecting would be closed the same way`, { closeCode: code });
}

/** ws(s) without credentials; no trailing slash. */
function validateGatewayUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigError(`invalid gateway URL ${JSON.stringify(String(value)).slice(0, 200)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new ConfigError(`gateway URL must be ws or wss, not ${url.protocol}`);
  if (url.username !== "" || url.password !== "") throw new ConfigError("gateway URL must not carry credentials; pass the token option instead");
  if (url.search !== "" || url.hash !== "") throw new ConfigError("gateway URL must not have a query or fragment");
  return url.href.replace(/\/+$/, "");
}

/** A ticket as the ticket option takes it; the message never repeats it. */
function validateTicket(value: unknown): string {
  if (!isTicketShaped(value)) throw new ConfigError(`ticket is not a room ticket: expected base64url(payload).base64url(signature), at most ${MAX_TICKET_CHARS} characters, as mintTicket makes`);
  return value;
}

/** A room's terminal error as the gateway described it, as one of our errors again. */
function errorFromWire(error: WireError | undefined, secrets: readonly (string | undefined)[], retryable = false): RoomWatcherError {
  if (error === undefined) return new GatewayError("upstream", "the gateway's upstream failed the room", { retryable });
  const message = redactSecrets(error.message, secrets);
  if (error.code === ErrorCode.HTTP && error.status !== undefined) {
    const apiMessage = /^HTTP \d+: (.*)$/.exec(message)?.[1];
    return new HttpError(error.status, apiMessage);
  }
  return new GatewayError("upstream", `the gateway's upstream ${retryable ? "answered" : "failed the room"}: ${message} (${error.code})`, { retryable });
}
