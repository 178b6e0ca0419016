/**
 * The WebSocket source on a fake clock against scripted gateways on loopback: the reconnect schedule
 * (capped, jittered, reset by a welcome), the staleness watchdog, resync on a sequence gap, and the
 * terminal cases (the fallback to polling is withFallback's: test/watch/with-fallback.test.ts). Real sockets, fake time: each test waits for the
 * source's events and asserts the scheduled delays, then checks that no timer is left.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebSocket } from "ws";
import { ConfigError, GatewayError, HttpError } from "../../src/core/errors.js";
import { GATEWAY_SUBPROTOCOL, toWireResult } from "../../src/protocol/messages.js";
import { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import type { TransientFailure } from "../../src/core/source.js";
import { chooseWebSocket, loadSocketFactory } from "../../src/sources/gateway-socket.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Gateway } from "../../src/gateway/server.js";
import { mintTicket, ticketKeyId } from "../../src/gateway/ticket.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { recorder, scriptedGatewayHarness } from "../helpers/scripted-gateway.js";
import { active, ScriptedSource, starting } from "../helpers/scripted-source.js";

const wire = toWireResult;

const { gateway, source, cleanups } = scriptedGatewayHarness();
afterEach(() => cleanups.run());

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
    // ws sees the gateway's pings, so only with it may a heartbeat set the watchdog (see the standard WebSocket below).
    const ws = source(time, g.url, { webSocket: "ws" });
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

  it.each([
    [GatewayCloseCode.PROTOCOL_VIOLATION, "PROTOCOL_VIOLATION"],
    [GatewayCloseCode.MESSAGE_TOO_BIG, "MESSAGE_TOO_BIG"],
    [GatewayCloseCode.UNSUPPORTED_DATA, "UNSUPPORTED_DATA"],
  ])("ends every room as rejected on close code %i, with no reconnect", async (code, name) => {
    const g = await gateway();
    g.onConnection = (socket) => socket.close(code, "go away");
    const time = fakeClock();
    const ws = source(time, g.url);
    const disconnections: number[] = [];
    ws.on("disconnected", (e) => disconnections.push(e.code));
    const a = recorder();
    const b = recorder();
    const subscriptions = [ws.subscribe("r1", a.listener), ws.subscribe("r2", b.listener)];
    await a.until(() => a.fatals.length === 1);
    await b.until(() => b.fatals.length === 1);
    expect(a.fatals[0]).toBeInstanceOf(GatewayError);
    expect(a.fatals[0]).toMatchObject({ reason: "rejected", closeCode: code, retryable: false });
    expect(String((a.fatals[0] as Error).message)).toContain(name);
    expect(a.failures).toEqual([]);
    expect(disconnections).toEqual([]);
    // Nothing scheduled: no reconnect will come, however long we wait.
    expect(time.timers()).toBe(0);
    expect(ws.pendingTimers).toBe(0);
    expect(g.authorizations).toHaveLength(1);
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
  });

  it.each([
    [GatewayCloseCode.GOING_AWAY],
    [GatewayCloseCode.SLOW_CONSUMER],
    [GatewayCloseCode.TRY_AGAIN_LATER],
  ])("reconnects on the backoff schedule after close code %i, and resubscribes", async (code) => {
    const g = await gateway();
    let connections = 0;
    g.onConnection = (socket) => {
      connections++;
      if (connections === 1) socket.close(code, "later");
      else g.welcome(socket);
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const disconnections: Array<{ code: number; nextDelayMs: number }> = [];
    ws.on("disconnected", (e) => disconnections.push({ code: e.code, nextDelayMs: e.nextDelayMs }));
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.failures.length === 1);
    expect(room.failures[0]).toMatchObject({ attempt: 1, nextDelayMs: 75, error: { reason: "connection", closeCode: code, retryable: true } });
    expect(disconnections).toEqual([{ code, nextDelayMs: 75 }]);
    expect(time.timers()).toBe(1);
    const before = time.fake.now;
    await time.fake.nextAsync();
    expect(time.fake.now - before).toBe(75);
    await g.receivedCount((m) => m.type === "subscribe" && m.roomId === "r1", 1);
    expect(connections).toBe(2);
    expect(room.fatals).toEqual([]);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
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

/** The WebSocket class a runtime has globally; ws's own class stands in on Node 20, which has none. */
async function standardWebSocketClass(): Promise<new (url: string, protocols: string[]) => object> {
  const existing = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => object }).WebSocket;
  if (existing !== undefined) return existing;
  // ws implements the standard API too (addEventListener, binaryType, close(code, reason)).
  const { WebSocket: Ws } = await import("ws");
  return Ws;
}

describe("WebSocketSource on the runtime's standard WebSocket, or on ws", () => {
  /** Installs a counting subclass of the standard WebSocket as globalThis.WebSocket for one test. */
  async function countingGlobalWebSocket(): Promise<{ constructed: Array<{ url: string; protocols: string[] }> }> {
    const Base = await standardWebSocketClass();
    const constructed: Array<{ url: string; protocols: string[] }> = [];
    class Counting extends Base {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        constructed.push({ url, protocols });
      }
    }
    vi.stubGlobal("WebSocket", Counting);
    cleanups.push(() => {
      vi.unstubAllGlobals();
      return Promise.resolve();
    });
    return { constructed };
  }

  it("without a token uses the global WebSocket: pushes arrive, a bad frame drops it, and it reconnects", async () => {
    const { constructed } = await countingGlobalWebSocket();
    const g = await gateway();
    let subscribes = 0;
    g.onMessage = (socket, message) => {
      if (message.type !== "subscribe") return;
      subscribes++;
      g.send(socket, { type: "snapshot", roomId: "r1", seq: 0, result: wire(starting), at: 1 });
      if (subscribes === 1) socket.send("{nope");
      else g.send(socket, { type: "update", roomId: "r1", seq: 1, result: wire(active(4321)), at: 2 });
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.failures.length === 1);
    expect(room.failures[0]).toMatchObject({ attempt: 1, nextDelayMs: 75, error: { reason: "connection", closeCode: 1006 } });
    await time.fake.nextAsync();
    await room.until(() => room.results.length === 3);
    expect(room.results.map((r) => (r.observation.kind === "active" ? r.observation.connection.exposedPort.port : r.observation.kind))).toEqual(["starting", "starting", 4321]);
    expect(constructed).toEqual([
      { url: g.url, protocols: [GATEWAY_SUBPROTOCOL] },
      { url: g.url, protocols: [GATEWAY_SUBPROTOCOL] },
    ]);
    expect(g.authorizations).toEqual([undefined, undefined]);
    await subscription.unsubscribe();
    expect(ws.connected).toBe(false);
    expect(time.timers()).toBe(0);
  });

  it("on the global WebSocket, which answers pings unseen, a heartbeat does not arm a watchdog that would kill a quiet connection", async () => {
    await countingGlobalWebSocket();
    const g = await gateway();
    g.onConnection = (socket) => g.welcome(socket, 1_000);
    g.onMessage = (socket, message) => {
      if (message.type === "subscribe") g.send(socket, { type: "snapshot", roomId: message.roomId, seq: 0, result: wire(starting), at: 1 });
    };
    const time = fakeClock();
    const ws = source(time, g.url);
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 1);
    expect(ws.connected).toBe(true);
    expect(time.timers()).toBe(0);
    await time.tick(60_000);
    expect(room.failures).toEqual([]);
    expect(ws.connected).toBe(true);
    await subscription.unsubscribe();
  });

  it("with a token uses ws, which sends it as an Authorization header, even where a global WebSocket exists", async () => {
    const { constructed } = await countingGlobalWebSocket();
    const g = await gateway();
    g.onMessage = (socket, message) => {
      if (message.type === "subscribe") g.send(socket, { type: "snapshot", roomId: message.roomId, seq: 0, result: wire(active(5555)), at: 1 });
    };
    const time = fakeClock();
    const ws = source(time, g.url, { token: "client-token" });
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 1);
    expect(g.authorizations).toEqual(["Bearer client-token"]);
    expect(constructed).toEqual([]);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  describe("with a room ticket, as a browser page connects", () => {
    const SECRET = "websocket-source-ticket-secret-0123456789";

    /** A real gateway taking tickets, over a scripted upstream whose rooms are all active. */
    async function ticketGateway(): Promise<Gateway> {
      const upstream = new ScriptedSource([active(4321)], () => Date.now());
      const g = await Gateway.start({ source: upstream, ticketSecret: SECRET, defaultMetrics: false, probeUpstream: false, limits: { heartbeatIntervalMs: 0 } });
      cleanups.push(() => g.close());
      return g;
    }

    it("presents it as the subprotocol entry ticket.<ticket> on the global WebSocket; the ticket's room is served, another refused", async () => {
      const { constructed } = await countingGlobalWebSocket();
      const g = await ticketGateway();
      const ticket = mintTicket({ secret: SECRET, rooms: ["r1"], ttlMs: 60_000 });
      const time = fakeClock();
      const ws = source(time, g.url, { ticket });
      const mine = recorder();
      const other = recorder();
      const subscriptions = [ws.subscribe("r1", mine.listener), ws.subscribe("r2", other.listener)];
      await mine.until(() => mine.results.some((r) => r.observation.kind === "active"));
      await other.until(() => other.fatals.length === 1);
      expect(other.fatals[0]).toBeInstanceOf(GatewayError);
      expect(other.fatals[0]).toMatchObject({ reason: "refused", retryable: false });
      expect((other.fatals[0] as Error).message).toContain("this connection's ticket does not name this room");
      expect(constructed).toEqual([{ url: g.url, protocols: [GATEWAY_SUBPROTOCOL, `ticket.${ticket}`] }]);
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
      expect(time.timers()).toBe(0);
    });

    it.each([
      ["forged", () => mintTicket({ secret: `${SECRET}-forger`, keyId: ticketKeyId(SECRET), rooms: ["r1"], ttlMs: 60_000 }), { reason: "ticket_refused", closeCode: 4403 }, "the gateway refused our room ticket (close code 4403: ticket refused: bad signature)"],
      ["expired", () => mintTicket({ secret: SECRET, rooms: ["r1"], ttlMs: 1_000, now: Date.now() - 60_000 }), { reason: "ticket_expired", closeCode: 4410 }, "our room ticket has expired (close code 4410): get a new one"],
    ])("ends every room on a %s ticket, with no reconnect, never naming the ticket", async (_name, mint, fields, message) => {
      await countingGlobalWebSocket();
      const g = await ticketGateway();
      const ticket = mint();
      const time = fakeClock();
      const ws = source(time, g.url, { ticket });
      const a = recorder();
      const b = recorder();
      const subscriptions = [ws.subscribe("r1", a.listener), ws.subscribe("r2", b.listener)];
      await a.until(() => a.fatals.length === 1);
      await b.until(() => b.fatals.length === 1);
      expect(a.fatals[0]).toMatchObject({ ...fields, retryable: false });
      expect((a.fatals[0] as Error).message).toBe(message);
      expect(a.failures).toEqual([]);
      expect(time.timers()).toBe(0);
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    });

    it("refuses a ticket beside a token, or a value that is no ticket, without repeating it", () => {
      const ticket = mintTicket({ secret: SECRET, rooms: ["r1"], ttlMs: 60_000 });
      expect(() => new WebSocketSource({ url: "ws://127.0.0.1:1", token: "t0ken", ticket })).toThrow(/give token or ticket, not both/);
      for (const bad of ["not a ticket", `${ticket}.more`, "x".repeat(5_000) + ".y", ""]) {
        let thrown: unknown;
        try {
          new WebSocketSource({ url: "ws://127.0.0.1:1", ticket: bad });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ConfigError);
        expect((thrown as Error).message).toMatch(/^ticket is not a room ticket/);
        if (bad.length > 0) expect((thrown as Error).message).not.toContain(bad.slice(0, 12));
      }
    });
  });

  it("refuses at once a token with the standard WebSocket, which cannot send it", () => {
    expect(() => new WebSocketSource({ url: "ws://127.0.0.1:1", token: "t0ken", webSocket: "global" })).toThrow(ConfigError);
    expect(() => new WebSocketSource({ url: "ws://127.0.0.1:1", token: "t0ken", webSocket: "global" })).toThrow(/Authorization header/);
    expect(() => new WebSocketSource({ url: "ws://127.0.0.1:1", webSocket: "tcp" as never })).toThrow(/webSocket must be "global" or "ws"/);
  });

  it.each([
    // preference, token, global WebSocket, chosen
    [undefined, false, true, "global"],
    [undefined, false, false, "ws"],
    [undefined, true, true, "ws"],
    [undefined, true, false, "ws"],
    ["ws", false, true, "ws"],
    ["ws", true, false, "ws"],
    ["global", false, true, "global"],
  ] as const)("chooses for preference %s, token %s, global %s: %s", (preference, token, hasGlobal, chosen) => {
    expect(chooseWebSocket(preference, token, hasGlobal)).toBe(chosen);
  });

  it.each([
    ["global", true, true, /Authorization header/],
    ["global", false, false, /no global WebSocket/],
  ] as const)("refuses preference %s with token %s and global %s", (preference, token, hasGlobal, message) => {
    expect(() => chooseWebSocket(preference, token, hasGlobal)).toThrow(message);
  });

  it("fails with a ConfigError when ws cannot be loaded (a browser), or is a bundler's browser stub", async () => {
    const missing = loadSocketFactory("ws", true, () => Promise.reject(new Error("Cannot find package 'ws'")));
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/needs the ws package to send the token as an Authorization header.*Cannot find package 'ws'/);
    const stub = () => Promise.resolve({ default: () => { throw new Error("ws does not work in the browser"); } });
    await expect(loadSocketFactory("ws", false, stub)).rejects.toThrow(/needs the ws package as this runtime has no global WebSocket, and this runtime's ws is not the Node client/);
  });

  it("fails every room once with that ConfigError on its first connect, with no retry", async () => {
    // A runtime without ws: make the import fail as a browser's would, through the source's own path.
    const time = fakeClock();
    const ws = source(time, "ws://127.0.0.1:9", { token: "t0ken" });
    vi.doMock("ws", () => {
      throw new Error("Cannot find package 'ws'");
    });
    cleanups.push(() => {
      vi.doUnmock("ws");
      return Promise.resolve();
    });
    const a = recorder();
    const subscription = ws.subscribe("r1", a.listener);
    await a.until(() => a.fatals.length === 1);
    expect(a.fatals[0]).toBeInstanceOf(ConfigError);
    expect(String((a.fatals[0] as Error).message)).not.toContain("t0ken");
    expect(a.failures).toEqual([]);
    expect(time.timers()).toBe(0);
    await subscription.unsubscribe();
  });
});

