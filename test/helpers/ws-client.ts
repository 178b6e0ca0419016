/**
 * A raw WebSocket client for gateway tests: records every message and the close, and lets a test
 * wait for the one it expects instead of sleeping.
 */
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { WebSocket } from "ws";
import { GATEWAY_SUBPROTOCOL, parseServerMessage, type ServerMessage } from "../../src/protocol/messages.js";
import { conditions } from "./waiting.js";

export interface RawClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[];
  /** Frames that failed the published schema, as received (each also fails the test run as an uncaught error). */
  readonly invalid: string[];
  /** The first message (past or future) that matches. */
  next<T extends ServerMessage = ServerMessage>(matches: (message: ServerMessage) => boolean): Promise<T>;
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
}

export interface RawClientOptions {
  token?: string | undefined;
  protocols?: string[] | undefined;
  /** Answer pings (ws does by default); false plays a dead peer. */
  autoPong?: boolean | undefined;
  /** The Origin header a browser page would send. Default none. */
  origin?: string | undefined;
  /** Further handshake headers. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The local address to connect from (another loopback address, 127.0.0.2, is another client address). */
  localAddress?: string | undefined;
}

/** Connects; resolves once open, rejects if the handshake is refused (with the HTTP status in the message). */
export function connectRaw(url: string, options: RawClientOptions = {}): Promise<RawClient> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(url, options.protocols ?? [GATEWAY_SUBPROTOCOL], { headers, autoPong: options.autoPong ?? true, origin: options.origin, localAddress: options.localAddress });
  const messages: ServerMessage[] = [];
  const invalid: string[] = [];
  ws.on("error", () => undefined);
  const waiters = new Set<{ matches: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void }>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once("close", (code, reason) => {
      for (const waiter of waiters) waiter.reject(new Error(`closed with ${code} before the expected message`));
      waiters.clear();
      resolve({ code, reason: reason.toString("utf8") });
    });
  });
  ws.on("message", (data) => {
    const text = Buffer.from(data as Buffer).toString("utf8");
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      invalid.push(text);
      throw new Error(`the gateway sent an invalid message: ${parsed.detail}`);
    }
    messages.push(parsed.message);
    for (const waiter of [...waiters]) {
      if (waiter.matches(parsed.message)) {
        waiters.delete(waiter);
        waiter.resolve(parsed.message);
      }
    }
  });
  const client: RawClient = {
    ws,
    messages,
    invalid,
    closed,
    next: <T extends ServerMessage>(matches: (message: ServerMessage) => boolean) => {
      const seen = messages.find(matches);
      if (seen !== undefined) return Promise.resolve(seen as T);
      if (ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error("already closed"));
      return new Promise<T>((resolve, reject) => {
        waiters.add({ matches, resolve: resolve as (m: ServerMessage) => void, reject });
      });
    },
    send: (value) => ws.send(typeof value === "string" ? value : JSON.stringify(value)),
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`handshake refused: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once("error", (error) => reject(error));
  });
}

/**
 * A WebSocket peer made by hand over a plain socket: it completes the gateway's handshake and then
 * never answers anything, close frames included, so a test sees what the gateway does with a peer that
 * does not play along. `received` is every byte the gateway sent; `until` waits for a condition on it.
 */
export async function silentPeer(port: number): Promise<{ received: () => Buffer; until: (done: () => boolean) => Promise<void>; ended: Promise<void> }> {
  const socket = createConnection(port, "127.0.0.1");
  let received = Buffer.alloc(0);
  const { notify, until } = conditions();
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    notify();
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    [
      "GET / HTTP/1.1",
      "Host: 127.0.0.1",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Protocol: ${GATEWAY_SUBPROTOCOL}`,
      "",
      "",
    ].join("\r\n"),
  );
  await until(() => received.includes('"type":"welcome"'));
  return { received: () => received, until, ended };
}

/**
 * A plain TCP socket to the gateway that writes what it is given and nothing more (a slowloris, an idle
 * socket, a handshake that ignores its refusal): `received` is every byte the gateway sent, `closed`
 * resolves once the gateway (or the test) ended it.
 */
export function rawSocket(port: number, options: { readonly localAddress?: string | undefined; readonly write?: string | undefined } = {}) {
  const socket = createConnection({ port, host: "127.0.0.1", localAddress: options.localAddress });
  let received = Buffer.alloc(0);
  const { notify, until } = conditions();
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    notify();
  });
  socket.on("error", () => undefined);
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let isClosed = false;
  void closed.then(() => {
    isClosed = true;
    notify();
  });
  if (options.write !== undefined) socket.write(options.write);
  return { socket, connected, closed, isClosed: () => isClosed, received: () => received.toString("latin1"), until };
}

/** The request line and headers of a WebSocket handshake to the gateway, without the blank line that ends them. */
export function handshakeHead(headers: Readonly<Record<string, string>> = {}): string {
  const lines = [
    "GET / HTTP/1.1",
    "Host: 127.0.0.1",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
    "Sec-WebSocket-Version: 13",
    `Sec-WebSocket-Protocol: ${GATEWAY_SUBPROTOCOL}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return lines.join("\r\n") + "\r\n";
}
