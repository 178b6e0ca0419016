/**
 * A gateway whose every move a test scripts, on loopback (port 0), and a recorder of what a source tells
 * one room's listener: for the WebSocket source's tests and withFallback's.
 */
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { PollResult } from "../../src/core/observation.js";
import { GATEWAY_SUBPROTOCOL, parseClientMessage, type ClientMessage, type ServerMessage } from "../../src/protocol/messages.js";
import type { SourceListener, TransientFailure } from "../../src/core/source.js";
import { WebSocketSource, type WebSocketSourceOptions } from "../../src/sources/websocket-source.js";
import type { fakeClock } from "./fake-clock.js";
import { conditions } from "./waiting.js";

/** A gateway whose every move the test scripts. */
export class ScriptedGateway {
  readonly received: ClientMessage[] = [];
  readonly sockets = new Set<WebSocket>();
  /** Each connection's Authorization header, in order. */
  readonly authorizations: Array<string | undefined> = [];
  onConnection: (ws: WebSocket) => void = (ws) => this.welcome(ws);
  onMessage: (ws: WebSocket, message: ClientMessage) => void = () => undefined;
  #server: WebSocketServer | undefined;
  #port = 0;
  readonly #waiters = new Set<{ matches: (m: ClientMessage) => boolean; resolve: () => void }>();

  get url(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    const server = new WebSocketServer({ port: this.#port, host: "127.0.0.1", handleProtocols: (p) => (p.has(GATEWAY_SUBPROTOCOL) ? GATEWAY_SUBPROTOCOL : false) });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    server.on("connection", (ws, request) => {
      this.authorizations.push(request.headers.authorization);
      this.sockets.add(ws);
      ws.on("close", () => this.sockets.delete(ws));
      ws.on("message", (data) => {
        const parsed = parseClientMessage(Buffer.from(data as Buffer).toString("utf8"));
        if (!parsed.ok) throw new Error(`the source sent a bad frame: ${parsed.detail}`);
        this.received.push(parsed.message);
        for (const waiter of [...this.#waiters]) {
          if (waiter.matches(parsed.message)) {
            this.#waiters.delete(waiter);
            waiter.resolve();
          }
        }
        this.onMessage(ws, parsed.message);
      });
      this.onConnection(ws);
    });
  }

  /** Resolves once `count` received messages match. */
  receivedCount(matches: (m: ClientMessage) => boolean, count: number): Promise<void> {
    if (this.received.filter(matches).length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        matches: (m: ClientMessage) => matches(m) && this.received.filter(matches).length >= count,
        resolve,
      };
      this.#waiters.add(waiter);
    });
  }

  welcome(ws: WebSocket, heartbeatIntervalMs = 0): void {
    this.send(ws, { type: "welcome", protocol: GATEWAY_SUBPROTOCOL, heartbeatIntervalMs, maxSubscriptionsPerConnection: 100 });
  }

  send(ws: WebSocket, message: ServerMessage): void {
    ws.send(JSON.stringify(message));
  }

  /** Stops listening and drops every connection; listen() again reuses the port. */
  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Records what the source tells one room's listener, and lets a test wait for it. */
export function recorder() {
  const results: PollResult[] = [];
  const failures: TransientFailure[] = [];
  const fatals: unknown[] = [];
  const { notify, until } = conditions();
  const listener: SourceListener = {
    onResult: (result) => {
      results.push(result);
      notify();
    },
    onTransientFailure: (failure) => {
      failures.push(failure);
      notify();
    },
    onFatal: (error) => {
      fatals.push(error);
      notify();
    },
  };
  return { listener, results, failures, fatals, until };
}


/**
 * What the WebSocket source's tests and withFallback's share: scripted gateways closed after each test
 * (`afterEach(() => cleanups.run())`), and sources on the fake clock with the reconnect schedule they
 * assert (100 ms, doubling to 800 ms, no jitter).
 */
export function scriptedGatewayHarness() {
  const pending: Array<() => Promise<void>> = [];
  const cleanups = {
    push: (cleanup: () => Promise<void>) => pending.push(cleanup),
    run: async () => {
      for (const cleanup of pending.splice(0).reverse()) await cleanup();
    },
  };
  return {
    cleanups,
    gateway: async (): Promise<ScriptedGateway> => {
      const g = new ScriptedGateway();
      await g.listen();
      cleanups.push(() => g.close());
      return g;
    },
    source: (time: ReturnType<typeof fakeClock>, url: string, options: Partial<WebSocketSourceOptions> = {}): WebSocketSource =>
      new WebSocketSource({ url, clock: time.clock, random: () => 0.5, initialReconnectDelayMs: 100, maxReconnectDelayMs: 800, ...options }),
  };
}
