/**
 * The WebSocket source on a fake clock against scripted gateways on loopback: the reconnect schedule
 * (capped, jittered, reset by a welcome), the staleness watchdog, resync on a sequence gap, fallback
 * to polling and back, and the terminal cases. Real sockets, fake time: each test waits for the
 * source's events and asserts the scheduled delays, then checks that no timer is left.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import type { PollResult } from "../src/core/observation.js";
import { GatewayError, HttpError } from "../src/core/errors.js";
import { GATEWAY_SUBPROTOCOL, parseClientMessage, toWireResult, type ClientMessage, type ServerMessage } from "../src/protocol/messages.js";
import { GatewayCloseCode } from "../src/protocol/close-codes.js";
import type { SourceListener, TransientFailure } from "../src/core/source.js";
import { WebSocketSource, type WebSocketSourceOptions } from "../src/sources/websocket-source.js";
import { Fleet } from "../src/watch/fleet.js";
import { fakeClock } from "./helpers/fake-clock.js";
import { active, ScriptedSource, starting } from "./helpers/scripted-source.js";
import { conditions } from "./helpers/waiting.js";

/** A gateway whose every move the test scripts. */
class ScriptedGateway {
  readonly received: ClientMessage[] = [];
  readonly sockets = new Set<WebSocket>();
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
    server.on("connection", (ws) => {
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

const wire = toWireResult;

/** Records what the source tells one room's listener, and lets a test wait for it. */
function recorder() {
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

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(): Promise<ScriptedGateway> {
  const g = new ScriptedGateway();
  await g.listen();
  cleanups.push(() => g.close());
  return g;
}

function source(time: ReturnType<typeof fakeClock>, url: string, options: Partial<WebSocketSourceOptions> = {}): WebSocketSource {
  return new WebSocketSource({ url, clock: time.clock, random: () => 0.5, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 800, ...options });
}

describe("WebSocketSource on a fake clock", () => {
  it("reconnects on a capped, jittered schedule while the gateway is unreachable, and leaves no timer", async () => {
    const g = await gateway();
    const url = g.url;
    await g.close(); // nothing listens there now: every attempt is refused
    const time = fakeClock();
    const ws = source(time, url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      await room.until(() => room.failures.length >= attempt);
      const failure = room.failures[attempt - 1] as TransientFailure;
      expect(failure).toMatchObject({ attempt, error: { code: "RW_GATEWAY", reason: "connection", retryable: true } });
      // The only timer is the reconnect, due exactly nextDelayMs from now.
      expect(time.timers()).toBe(1);
      const before = time.fake.now;
      await time.fake.nextAsync();
      expect(time.fake.now - before).toBe(failure.nextDelayMs);
      delays.push(failure.nextDelayMs);
    }
    // Equal jitter with random 0.5: 3/4 of 100·2^(n-1), capped at 800.
    expect(delays).toEqual([75, 150, 300, 600, 600, 600]);
    await subscription.unsubscribe();
    expect(ws.pendingTimers).toBe(0);
    expect(time.timers()).toBe(0);
  });

  it("resubscribes after a reconnect and resets the backoff once welcomed", async () => {
    const g = await gateway();
    g.onMessage = (ws, message) => {
      if (message.type === "subscribe") g.send(ws, { type: "snapshot", roomId: message.roomId, seq: 4, result: wire(starting), at: 1 });
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const connected: number[] = [];
    ws.on("connected", (e) => connected.push(e.at));
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 1);
    for (let round = 1; round <= 2; round++) {
      for (const socket of g.sockets) socket.terminate();
      await room.until(() => room.failures.length === round);
      expect(room.failures[round - 1]).toMatchObject({ attempt: 1, nextDelayMs: 75 });
      await time.fake.nextAsync();
      await g.receivedCount((m) => m.type === "subscribe", round + 1);
      await room.until(() => room.results.length === round + 1);
    }
    expect(connected).toHaveLength(3);
    expect(room.results.every((r) => r.observation.kind === "starting")).toBe(true);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("calls a silent connection dead after staleAfterMs, counting from the last message", async () => {
    const g = await gateway();
    let connection: WebSocket | undefined;
    // Heartbeat 1,000 ms announced: the source's watchdog becomes 3 heartbeats, and no ping ever comes.
    g.onConnection = (socket) => {
      connection = socket;
      g.welcome(socket, 1_000);
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await g.receivedCount((m) => m.type === "subscribe", 1);
    const welcomedAt = time.fake.now;
    // A message 2,000 ms in postpones the verdict: the check at 3,000 finds 1,000 ms of silence.
    await time.tick(2_000);
    g.send(connection as WebSocket, { type: "snapshot", roomId: "r1", seq: 0, result: wire(starting), at: 1 });
    await room.until(() => room.results.length === 1);
    expect(time.timers()).toBe(1);
    await time.fake.nextAsync();
    expect(time.fake.now - welcomedAt).toBe(3_000);
    expect(room.failures).toHaveLength(0);
    await time.fake.nextAsync();
    expect(time.fake.now - welcomedAt).toBe(5_000);
    await room.until(() => room.failures.length === 1);
    expect(room.failures[0]).toMatchObject({ error: { closeCode: 1006 } });
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("resyncs on a sequence gap: the update past the gap is dropped, the fresh snapshot applied", async () => {
    const g = await gateway();
    let subscribes = 0;
    g.onMessage = (socket, message) => {
      if (message.type !== "subscribe") return;
      subscribes++;
      if (subscribes === 1) {
        g.send(socket, { type: "snapshot", roomId: "r1", seq: 0, result: null, at: null });
        g.send(socket, { type: "update", roomId: "r1", seq: 1, result: wire(starting), at: 1 });
        g.send(socket, { type: "update", roomId: "r1", seq: 3, result: wire(active(1111)), at: 3 });
      } else {
        g.send(socket, { type: "snapshot", roomId: "r1", seq: 3, result: wire(active(2222)), at: 3 });
        g.send(socket, { type: "update", roomId: "r1", seq: 4, result: wire(active(3333)), at: 4 });
      }
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 3);
    const ports = room.results.map((r) => (r.observation.kind === "active" ? r.observation.connection.exposedPort.port : r.observation.kind));
    expect(ports).toEqual(["starting", 2222, 3333]);
    expect(subscribes).toBe(2);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("falls back to polling after fallbackAfterMs unreachable, and returns to push when the gateway is back", async () => {
    const g = await gateway();
    let pushPort = 5000;
    g.onMessage = (socket, message) => {
      if (message.type === "subscribe") g.send(socket, { type: "snapshot", roomId: message.roomId, seq: 0, result: wire(active(pushPort)), at: 1 });
    };
    const time = fakeClock();
    const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
    const polled = new ScriptedSource([starting, active(7000)], () => time.fake.now, "upstream");
    const ws = source(time, g.url, { fallback: polled, fallbackAfterMs: 1_000, fallbackFleet: fleet });
    const modes: boolean[] = [];
    ws.on("fallback", (e) => modes.push(e.active));
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 1);

    // Each refused reconnect reports its delay; ticking exactly that long makes the next attempt.
    const refusals: Array<{ nextDelayMs: number }> = [];
    let wake: (() => void) | undefined;
    ws.on("disconnected", (e) => {
      refusals.push(e);
      wake?.();
    });
    const nextRefusal = async (): Promise<{ nextDelayMs: number }> => {
      while (refusals.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return refusals.shift() as { nextDelayMs: number };
    };
    await g.close();
    await room.until(() => room.failures.length === 1);
    // Reconnects at 75, 150, 300, 600 ms... fail; at 1,000 ms unreachable the rooms poll directly.
    while (!ws.fallbackActive) await time.tick((await nextRefusal()).nextDelayMs);
    expect(modes).toEqual([true]);
    expect(ws.fallbackActive).toBe(true);
    await room.until(() => room.results.some((r) => r.observation.kind === "starting"));
    expect(polled.calls.length).toBeGreaterThanOrEqual(1);
    const failuresInFallback = room.failures.length;

    pushPort = 6000;
    await g.listen();
    const back = new Promise<void>((resolve) => ws.once("fallback", () => resolve()));
    // The attempt under way or the next one reaches the gateway again.
    while (ws.fallbackActive) {
      const refusal = await Promise.race([nextRefusal(), back.then(() => undefined)]);
      if (refusal !== undefined) await time.tick(refusal.nextDelayMs);
    }
    await room.until(() => room.results.some((r) => r.observation.kind === "active" && r.observation.connection.exposedPort.port === 6000));
    expect(modes).toEqual([true, false]);
    // Connection failures while polling are not reported per room: the polls report their own.
    expect(room.failures.length).toBe(failuresInFallback);
    // Push delivered, so the room's direct poll is gone.
    expect(fleet.size).toBe(0);
    const pollsAfter = polled.calls.length;
    await time.tick(10_000);
    expect(polled.calls.length).toBe(pollsAfter);
    await subscription.unsubscribe();
    await fleet.close();
    expect(time.timers()).toBe(0);
  });

  it.each([
    ["not JSON", "{nope"],
    ["an unknown message type", JSON.stringify({ type: "teleport", roomId: "r1" })],
    ["a snapshot with a negative seq", JSON.stringify({ type: "snapshot", roomId: "r1", seq: -1, result: null, at: null })],
    ["an update whose observation is malformed", JSON.stringify({ type: "update", roomId: "r1", seq: 1, result: { observation: { kind: "active" }, warnings: [] }, at: 1 })],
  ])("drops a gateway that sends %s, reconnects on schedule and resubscribes, and delivers nothing from the bad frame", async (_name, frame) => {
    const g = await gateway();
    let subscribes = 0;
    g.onMessage = (socket, message) => {
      if (message.type !== "subscribe") return;
      subscribes++;
      // The first connection breaks the protocol right after a valid snapshot; the second behaves.
      g.send(socket, { type: "snapshot", roomId: "r1", seq: 0, result: wire(starting), at: 1 });
      if (subscribes === 1) socket.send(frame);
      else g.send(socket, { type: "update", roomId: "r1", seq: 1, result: wire(active(4321)), at: 2 });
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.failures.length === 1);
    expect(room.failures[0]).toMatchObject({ attempt: 1, nextDelayMs: 75, error: { code: "RW_GATEWAY", reason: "connection", closeCode: 1006 } });
    expect(room.results.map((r) => r.observation.kind)).toEqual(["starting"]);
    await time.fake.nextAsync();
    await room.until(() => room.results.length === 3);
    expect(subscribes).toBe(2);
    expect(room.results.map((r) => (r.observation.kind === "active" ? r.observation.connection.exposedPort.port : r.observation.kind))).toEqual(["starting", "starting", 4321]);
    expect(room.fatals).toEqual([]);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("shares one wire subscription among listeners of the same room; a late one starts from the latest result", async () => {
    const g = await gateway();
    let socket: WebSocket | undefined;
    g.onMessage = (ws, message) => {
      socket = ws;
      if (message.type === "subscribe") g.send(ws, { type: "snapshot", roomId: message.roomId, seq: 0, result: wire(starting), at: 1 });
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const first = recorder();
    const second = recorder();
    const a = ws.subscribe("r1", first.listener);
    await first.until(() => first.results.length === 1);
    const b = ws.subscribe("r1", second.listener);
    expect(second.results.map((r) => r.observation.kind)).toEqual(["starting"]);
    g.send(socket as WebSocket, { type: "update", roomId: "r1", seq: 1, result: wire(active(4242)), at: 2 });
    await second.until(() => second.results.length === 2);
    await first.until(() => first.results.length === 2);
    expect(g.received.filter((m) => m.type === "subscribe")).toHaveLength(1);
    await a.unsubscribe();
    expect(ws.connected).toBe(true);
    await b.unsubscribe();
    expect(ws.connected).toBe(false);
    expect(time.timers()).toBe(0);
  });

  it("ends every room as failed on 4401, with no reconnect", async () => {
    const g = await gateway();
    g.onConnection = (socket) => socket.close(GatewayCloseCode.UNAUTHORIZED, "unauthorized");
    const time = fakeClock();
    const ws = source(time, g.url, { token: "my-secret-token" });
    const a = recorder();
    const b = recorder();
    const subscriptions = [ws.subscribe("r1", a.listener), ws.subscribe("r2", b.listener)];
    await a.until(() => a.fatals.length === 1);
    await b.until(() => b.fatals.length === 1);
    expect(a.fatals[0]).toBeInstanceOf(GatewayError);
    expect(a.fatals[0]).toMatchObject({ reason: "unauthorized", closeCode: 4401, retryable: false });
    expect(String((a.fatals[0] as Error).message)).not.toContain("my-secret-token");
    expect(time.timers()).toBe(0);
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
  });

  it("turns a room the gateway failed into a fatal error, and a not-found end into a recheck", async () => {
    const g = await gateway();
    let notFoundSubscribes = 0;
    g.onMessage = (socket, message) => {
      if (message.type !== "subscribe") return;
      g.send(socket, { type: "snapshot", roomId: message.roomId, seq: 0, result: null, at: null });
      if (message.roomId === "bad") {
        g.send(socket, { type: "ended", roomId: "bad", seq: 1, reason: "failed", error: { code: "RW_HTTP", message: "HTTP 403: forbidden", status: 403 }, at: 1 });
      } else {
        notFoundSubscribes++;
        g.send(socket, { type: "update", roomId: "gone", seq: 1, result: { observation: { kind: "not_found" }, warnings: [] }, at: 1 });
        g.send(socket, { type: "ended", roomId: "gone", seq: 2, reason: "not_found", at: 2 });
      }
    };
    const time = fakeClock();
    const ws = source(time, g.url, { notFoundRecheckMs: 500 });
    const bad = recorder();
    const gone = recorder();
    const subscriptions = [ws.subscribe("bad", bad.listener), ws.subscribe("gone", gone.listener)];
    await bad.until(() => bad.fatals.length === 1);
    expect(bad.fatals[0]).toBeInstanceOf(HttpError);
    expect(bad.fatals[0]).toMatchObject({ status: 403, apiMessage: "forbidden" });
    await gone.until(() => gone.results.length === 2);
    expect(gone.results.map((r) => r.observation.kind)).toEqual(["not_found", "not_found"]);
    expect(notFoundSubscribes).toBe(1);
    // The gateway stopped looking; 500 ms later we ask again, as a poll would.
    await time.tick(500);
    await g.receivedCount((m) => m.type === "subscribe" && m.roomId === "gone", 2);
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    expect(time.timers()).toBe(0);
  });
});
