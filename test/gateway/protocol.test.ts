/**
 * The gateway protocol against a real gateway and the real simulator on loopback: what every kind of
 * bad input gets (an error message or a documented close code), the limits, auth, hints, /healthz
 * and /metrics. Table-driven parsing first.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { Gateway } from "../../src/gateway/server.js";
import { GATEWAY_SUBPROTOCOL, parseClientMessage, ProtocolErrorCode, type EndedMessage, type SnapshotMessage, type UpdateMessage } from "../../src/protocol/messages.js";
import { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import { sendReadyHint } from "../../src/sources/ready-hint.js";
import { HttpError } from "../../src/core/errors.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { ScriptedSource, starting } from "../helpers/scripted-source.js";
import { connectRaw, silentPeer } from "../helpers/ws-client.js";
import { conditions } from "../helpers/waiting.js";

const APP = "app-proto";

describe("parseClientMessage", () => {
  const cases: Array<[string, string, ReturnType<typeof parseClientMessage>["ok"], string | undefined]> = [
    ["subscribe", '{"type":"subscribe","roomId":"abc"}', true, undefined],
    ["unsubscribe", '{"type":"unsubscribe","roomId":"a_b-c"}', true, undefined],
    ["not JSON", "{nope", false, ProtocolErrorCode.BAD_JSON],
    ["empty", "", false, ProtocolErrorCode.BAD_JSON],
    ["no type", '{"roomId":"abc"}', false, ProtocolErrorCode.UNKNOWN_TYPE],
    ["unknown type", '{"type":"hello"}', false, ProtocolErrorCode.UNKNOWN_TYPE],
    ["array", "[1,2]", false, ProtocolErrorCode.UNKNOWN_TYPE],
    ["bad room id", '{"type":"subscribe","roomId":"../x"}', false, ProtocolErrorCode.BAD_MESSAGE],
    ["missing room id", '{"type":"subscribe"}', false, ProtocolErrorCode.BAD_MESSAGE],
    ["long room id", JSON.stringify({ type: "subscribe", roomId: "a".repeat(254) }), false, ProtocolErrorCode.BAD_MESSAGE],
    ["room id of dots", JSON.stringify({ type: "subscribe", roomId: ".." }), false, ProtocolErrorCode.BAD_MESSAGE],
    ["Kubernetes object name", JSON.stringify({ type: "subscribe", roomId: "game.server-1" }), true, undefined],
  ];
  it.each(cases)("%s", (_name, text, ok, code) => {
    const parsed = parseClientMessage(text);
    expect(parsed.ok).toBe(ok);
    if (!parsed.ok) expect(parsed.code).toBe(code);
  });
});

describe("gateway protocol on loopback", () => {
  let simulator: Simulator;
  let gateway: Gateway;
  const token = "client-token-1234";
  const hintToken = "hint-token-5678";

  beforeAll(async () => {
    simulator = await Simulator.start({ seed: 11, timeScale: 50, appId: APP });
    gateway = await Gateway.start({
      baseUrl: simulator.url,
      appId: APP,
      clientToken: token,
      hintToken,
      defaultMetrics: false,
      limits: { maxFrameBytes: 256, maxSubscriptionsPerConnection: 2, maxInvalidMessages: 3, maxConnections: 8, maxBufferedBytes: 64 * 1024 },
    });
  });

  afterAll(async () => {
    await gateway.close();
    await simulator.close();
  });

  it("welcomes a client with the right token, then snapshot first and sequenced updates", async () => {
    const client = await connectRaw(gateway.url, { token });
    expect(client.ws.protocol).toBe(GATEWAY_SUBPROTOCOL);
    await client.next((m) => m.type === "welcome");
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    client.send({ type: "subscribe", roomId });
    const snapshot = await client.next<SnapshotMessage>((m) => m.type === "snapshot" && m.roomId === roomId);
    expect(snapshot.seq).toBe(0);
    expect(snapshot.result).toBeNull();
    const active = await client.next<UpdateMessage>((m) => m.type === "update" && m.result.observation.kind === "active");
    const updates = client.messages.filter((m): m is UpdateMessage => m.type === "update");
    expect(updates.map((u) => u.seq)).toEqual(updates.map((_u, i) => i + 1));
    expect(active.result.observation).toMatchObject({ kind: "active", connection: { exposedPort: simulator.truth(roomId)?.exposedPort } });
    // Every frame the gateway sent matches the published schema.
    expect(client.messages.length).toBeGreaterThan(2);
    expect(client.invalid).toEqual([]);
    // Subscribing again is a resync: a fresh snapshot at the current sequence number.
    client.send({ type: "subscribe", roomId });
    const resync = await client.next<SnapshotMessage>((m) => m.type === "snapshot" && m.seq === active.seq);
    expect(resync.result?.observation.kind).toBe("active");
    simulator.destroyRoom(APP, roomId);
    client.ws.close();
    await client.closed;
  });

  it("answers bad frames with error messages, and closes with 4400 after too many among its latest messages", async () => {
    const client = await connectRaw(gateway.url, { token });
    client.send("{not json");
    expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "bad_json" });
    client.send({ type: "launch", roomId: "abc" });
    expect(await client.next((m) => m.type === "error" && m.code === "unknown_type")).toMatchObject({ message: expect.stringContaining("launch") });
    // A valid message between them does not reset the count (issue 18: it once did, and 19 bad, 1 good went on for ever).
    client.send({ type: "unsubscribe", roomId: "never-subscribed" });
    client.send({ type: "subscribe", roomId: "no spaces allowed" });
    expect((await client.closed).code).toBe(GatewayCloseCode.PROTOCOL_VIOLATION);
    expect(client.messages.filter((m) => m.type === "error").map((m) => (m as { code: string }).code)).toEqual(["bad_json", "unknown_type"]);
  });

  it("closes on a binary frame (1003) and on an oversize frame (1009)", async () => {
    const binary = await connectRaw(gateway.url, { token });
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(GatewayCloseCode.UNSUPPORTED_DATA);
    const big = await connectRaw(gateway.url, { token });
    big.send({ type: "subscribe", roomId: "a".repeat(300) });
    expect((await big.closed).code).toBe(GatewayCloseCode.MESSAGE_TOO_BIG);
  });

  it("refuses more subscriptions than the limit with an error, keeping the connection", async () => {
    const client = await connectRaw(gateway.url, { token });
    for (const roomId of ["lim1", "lim2", "lim3"]) client.send({ type: "subscribe", roomId });
    expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "too_many_subscriptions", roomId: "lim3" });
    expect(client.messages.filter((m): m is SnapshotMessage => m.type === "snapshot").map((m) => m.roomId)).toEqual(["lim1", "lim2"]);
    client.send({ type: "unsubscribe", roomId: "lim1" });
    client.send({ type: "subscribe", roomId: "lim3" });
    expect(await client.next((m) => m.type === "snapshot" && m.roomId === "lim3")).toMatchObject({ type: "snapshot", roomId: "lim3" });
    client.ws.close();
    await client.closed;
  });

  it("refuses a room id the upstream's provider could never have (a dot, for Hathora) with bad_message, keeping the connection", async () => {
    const client = await connectRaw(gateway.url, { token });
    client.send({ type: "subscribe", roomId: "game.server-1" });
    expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "bad_message", roomId: "game.server-1", message: expect.stringContaining("1..100 characters of [a-zA-Z0-9_-]") });
    expect(gateway.stats.rooms).toBe(0);
    client.send({ type: "subscribe", roomId: "fine-1" });
    expect(await client.next((m) => m.type === "snapshot")).toMatchObject({ roomId: "fine-1" });
    client.ws.close();
    await client.closed;
  });

  it("closes a client without a valid token with 4401, and refuses a handshake without the subprotocol", async () => {
    for (const presented of [undefined, "wrong-token", `${token}x`]) {
      const client = await connectRaw(gateway.url, { token: presented });
      const closed = await client.closed;
      expect(closed).toEqual({ code: GatewayCloseCode.UNAUTHORIZED, reason: "unauthorized" });
      expect(client.messages).toEqual([]);
    }
    await expect(connectRaw(gateway.url, { token, protocols: ["room-watcher.v0"] })).rejects.toThrow("HTTP 400");
  });

  it("closes a slow consumer with 4429 instead of buffering without bound", async () => {
    const client = await connectRaw(gateway.url, { token });
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    client.send({ type: "subscribe", roomId });
    await client.next((m) => m.type === "update" && m.result.observation.kind === "active");
    // Stop reading, and ask for far more than the buffer limit plus the kernel's socket buffers
    // (each resync is an active snapshot of ~250 bytes: 60,000 of them are ~15 MB).
    client.ws.pause();
    const slow = new Promise((resolve) => gateway.once("closing", resolve));
    const frame = JSON.stringify({ type: "subscribe", roomId });
    for (let i = 0; i < 60_000; i++) client.ws.send(frame);
    expect(await slow).toMatchObject({ code: GatewayCloseCode.SLOW_CONSUMER });
    // Reading again, the client gets what was buffered (bounded), then the close.
    client.ws.resume();
    expect((await client.closed).code).toBe(GatewayCloseCode.SLOW_CONSUMER);
    expect(client.messages.length).toBeLessThan(60_000);
  });

  it("refuses connections past maxConnections with 1013", async () => {
    const small = await Gateway.start({ baseUrl: simulator.url, appId: APP, defaultMetrics: false, limits: { maxConnections: 2 } });
    onTestFinished(() => small.close());
    const clients = await Promise.all([connectRaw(small.url), connectRaw(small.url)]);
    await Promise.all(clients.map((c) => c.next((m) => m.type === "welcome")));
    const extra = await connectRaw(small.url);
    expect((await extra.closed).code).toBe(GatewayCloseCode.TRY_AGAIN_LATER);
    await small.close();
    // Shutdown tells every client it is going away.
    expect((await Promise.all(clients.map((c) => c.closed))).map((c) => c.code)).toEqual([GatewayCloseCode.GOING_AWAY, GatewayCloseCode.GOING_AWAY]);
  });

  it("pings every heartbeat interval and terminates a peer that stops answering", async () => {
    const beating = await Gateway.start({ baseUrl: simulator.url, appId: APP, defaultMetrics: false, limits: { heartbeatIntervalMs: 25 } });
    onTestFinished(() => beating.close());
    const alive = await connectRaw(beating.url);
    const dead = await connectRaw(beating.url, { autoPong: false });
    let pings = 0;
    alive.ws.on("ping", () => pings++);
    // No close frame for a dead peer: the socket is dropped, and the client sees 1006.
    expect((await dead.closed).code).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    expect(await beating.metricsText()).toMatch(/room_watcher_gateway_closes_total\{code="heartbeat"\} 1/);
    await beating.close();
    expect((await alive.closed).code).toBe(GatewayCloseCode.GOING_AWAY);
  });

  it("takes hints only with the hint token and only for watched rooms, and counts every refusal", async () => {
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    await expect(sendReadyHint({ gatewayUrl: gateway.url, roomId, token: hintToken })).rejects.toMatchObject({ status: 404 });
    const client = await connectRaw(gateway.url, { token });
    client.send({ type: "subscribe", roomId });
    await client.next((m) => m.type === "snapshot");
    const refused = await sendReadyHint({ gatewayUrl: gateway.url, roomId, token: "forged-token" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(401);
    expect(String((refused as Error).message)).not.toContain("forged-token");
    // A client token is not a hint token.
    await expect(sendReadyHint({ gatewayUrl: gateway.url, roomId, token })).rejects.toMatchObject({ status: 401 });
    await sendReadyHint({ gatewayUrl: gateway.url.replace("ws:", "http:"), roomId, token: hintToken });
    const metrics = await gateway.metricsText();
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="unknown_room"\} 1/);
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="unauthorized"\} 2/);
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="accepted"\} 1/);
    expect(metrics).not.toContain(token);
    expect(metrics).not.toContain(hintToken);
    client.ws.close();
    await client.closed;
  });

  it("serves /healthz and Prometheus /metrics on the same port", async () => {
    const health = await fetch(`${gateway.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", connections: expect.any(Number), rooms: expect.any(Number) });
    const metrics = await fetch(`${gateway.httpUrl}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    for (const name of [
      "room_watcher_gateway_connections",
      "room_watcher_gateway_subscribers",
      "room_watcher_gateway_rooms",
      "room_watcher_gateway_upstream_requests_total",
      "room_watcher_gateway_push_latency_seconds_bucket",
    ]) {
      expect(text).toContain(name);
    }
    // Upstream requests by outcome, and a push latency observed for every news message written.
    expect(text).toMatch(/room_watcher_gateway_upstream_requests_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/room_watcher_gateway_push_latency_seconds_count [1-9]/);
    expect(text).toMatch(/room_watcher_gateway_closes_total\{code="4401"\} 3/);
    expect(text).toMatch(/room_watcher_gateway_closes_total\{code="4429"\} 1/);
    expect((await fetch(`${gateway.httpUrl}/nope`)).status).toBe(404);
  });
});

describe("graceful shutdown on a fake clock", () => {
  it("waits shutdownGraceMs for a client that never answers the going-away close, then drops it", async () => {
    const time = fakeClock();
    const gateway = await Gateway.start({ baseUrl: "http://127.0.0.1:59", appId: APP, clock: time.clock, shutdownGraceMs: 3_000, defaultMetrics: false, limits: { heartbeatIntervalMs: 0 } });
    // A peer that completes the handshake by hand and then never answers anything, close frames included.
    const peer = await silentPeer(gateway.port);
    const { until, ended } = peer;
    const received = peer.received;
    expect(received().toString("latin1")).toMatch(/^HTTP\/1\.1 101 /);
    const welcomeEnd = received().length;

    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    // The going-away close frame: opcode 8, status 1001.
    await until(() => received().subarray(welcomeEnd).includes(Buffer.from([0x88])));
    const frame = received().subarray(received().indexOf(0x88, welcomeEnd));
    expect(frame.readUInt16BE(2)).toBe(GatewayCloseCode.GOING_AWAY);
    await time.tick(2_999);
    expect(closed).toBe(false);
    await time.tick(1);
    await closing;
    await ended;
    expect(time.timers()).toBe(0);
  });
});

describe("a room's lifecycle on a fake clock", () => {
  it("sequences every message of a room, sends ended after the terminal change, drops the room, and starts afresh on the next subscribe", async () => {
    const time = fakeClock();
    const destroyed = { observation: { kind: "ended", reason: "destroyed" }, warnings: [] } as const;
    const upstream = new ScriptedSource([starting, destroyed], () => time.fake.now, "upstream");
    // The script is the room's: no start-up probe to take a step of it.
    const gateway = await Gateway.start({ source: upstream, clock: time.clock, defaultMetrics: false, limits: { heartbeatIntervalMs: 0 }, probeUpstream: false });
    const client = await connectRaw(gateway.url);
    client.send({ type: "subscribe", roomId: "r1" });
    await client.next((m) => m.type === "update" && m.seq === 1);
    expect(gateway.stats).toMatchObject({ rooms: 1, subscriptions: 1, upstreamRequests: 1 });
    // The next look, whenever the schedule puts it, finds the room destroyed.
    await time.fake.nextAsync();
    const ended = await client.next<EndedMessage>((m) => m.type === "ended");
    const forRoom = client.messages.filter((m) => m.type !== "welcome");
    expect(forRoom.map((m) => [m.type, "seq" in m ? m.seq : undefined])).toEqual([
      ["snapshot", 0],
      ["update", 1],
      ["update", 2],
      ["ended", 3],
    ]);
    expect(ended).toMatchObject({ roomId: "r1", reason: "destroyed" });
    expect(gateway.stats).toMatchObject({ rooms: 0, subscriptions: 0, upstreamRequests: 2 });
    expect(time.timers()).toBe(0);
    // Dropped: the next subscriber starts a new upstream watch, from a fresh snapshot.
    client.send({ type: "subscribe", roomId: "r1" });
    await client.next((m) => m.type === "snapshot" && m.roomId === "r1" && client.messages.indexOf(m) > client.messages.indexOf(ended));
    await client.next((m) => m.type === "ended" && m !== ended);
    expect(upstream.calls).toHaveLength(3);
    client.ws.close();
    await client.closed;
    await gateway.close();
    expect(time.timers()).toBe(0);
  });
});

describe("heartbeat on a fake clock", () => {
  it("pings every heartbeatIntervalMs and terminates a peer one interval after the ping it did not answer", async () => {
    const time = fakeClock();
    const gateway = await Gateway.start({ baseUrl: "http://127.0.0.1:59", appId: APP, clock: time.clock, defaultMetrics: false, limits: { heartbeatIntervalMs: 1_000 } });
    const alive = await connectRaw(gateway.url);
    const dead = await connectRaw(gateway.url, { autoPong: false });
    await Promise.all([alive, dead].map((c) => c.next((m) => m.type === "welcome")));
    const pingsAt = { alive: [] as number[], dead: [] as number[] };
    const pinged = { alive: 0, dead: 0 };
    const { notify, until } = conditions();
    for (const [name, client] of [["alive", alive], ["dead", dead]] as const) {
      client.ws.on("ping", () => {
        pingsAt[name].push(time.elapsed());
        pinged[name]++;
        notify();
      });
    }
    /** A round trip after the ping: the gateway has read the pong (sent before it) once the snapshot comes back. */
    let roundTrips = 0;
    const roundTrip = async (): Promise<void> => {
      const roomId = `rt${++roundTrips}`;
      alive.send({ type: "subscribe", roomId });
      await alive.next((m) => m.type === "snapshot" && m.roomId === roomId);
      alive.send({ type: "unsubscribe", roomId });
    };

    await time.tick(1_000);
    await until(() => pinged.alive === 1 && pinged.dead === 1);
    await roundTrip();
    await time.tick(1_000);
    // The dead peer did not answer the ping at 1,000 ms: at 2,000 ms it is dropped, not pinged again.
    expect((await dead.closed).code).toBe(1006);
    await until(() => pinged.alive === 2);
    await roundTrip();
    await time.tick(1_000);
    await until(() => pinged.alive === 3);
    expect(pingsAt).toEqual({ alive: [1_000, 2_000, 3_000], dead: [1_000] });
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    expect(gateway.stats.connections).toBe(1);
    expect(await gateway.metricsText()).toMatch(/room_watcher_gateway_closes_total\{code="heartbeat"\} 1/);
    alive.ws.close();
    await alive.closed;
    await gateway.close();
  });
});
