/**
 * Readiness hints end to end: the simulator plays the game servers (it sends a hint when a room turns
 * active), a recording proxy shows every upstream request, and the gateway polls so rarely (60 s) that
 * only a hint can explain a prompt detection. A hint is never truth: a mistaken one costs one request.
 * Then, on a fake clock with a scripted upstream, what hints cost: refused ones nothing, a burst one
 * look, and never a look sooner than the floor or the fleet's request budget allows.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HttpError } from "../../src/core/errors.js";
import { sendReadyHint } from "../../src/sources/ready-hint.js";
import type { UpdateMessage } from "../../src/protocol/messages.js";
import { DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS, Gateway } from "../../src/gateway/server.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { Fleet, type FleetOptions } from "../../src/watch/fleet.js";
import { type Exchange, startRecordingProxy } from "../helpers/cli-process.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { active, ScriptedSource, starting } from "../helpers/scripted-source.js";
import { connectRaw } from "../helpers/ws-client.js";

const APP = "app-hints";
const HINT_TOKEN = "game-server-hint-token";
const RARELY = { pollIntervalMs: 60_000, maxPollIntervalMs: 60_000, activePollIntervalMs: 60_000, minPollIntervalMs: 1 } as const;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("readiness hints", () => {
  it("a mistaken hint costs one upstream request and changes nothing; a real one is seen at once", async () => {
    // Time scale 5: a cold start takes 300 ms at least, so the gateway has looked once (starting) before.
    const simulator = await Simulator.start({ seed: 4, timeScale: 5, appId: APP, tickMs: 5 });
    cleanups.push(() => simulator.close());
    const proxy = await startRecordingProxy(simulator.url);
    cleanups.push(() => proxy.close());
    const gateway = await Gateway.start({ baseUrl: proxy.url, appId: APP, hintToken: HINT_TOKEN, pollOptions: RARELY, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    const looksAt = (roomId: string, n: number) => (e: Exchange) => e.path.includes(roomId) && proxy.exchanges.filter((x) => x.path.includes(roomId)).length >= n;

    // A room that stays starting: a hint for it is wrong, and the look it causes says so.
    const stuck = simulator.createRoom(APP, { scenario: "never" }).roomId;
    const client = await connectRaw(gateway.url);
    client.send({ type: "subscribe", roomId: stuck });
    await client.next((m) => m.type === "update" && m.roomId === stuck);
    await proxy.next(looksAt(stuck, 1));
    await sendReadyHint({ gatewayUrl: gateway.url, roomId: stuck, token: HINT_TOKEN });
    const second = await proxy.next(looksAt(stuck, 2));
    expect(JSON.parse(second.body)).toMatchObject({ status: "starting" });
    expect(client.messages.filter((m) => m.type === "update" && m.roomId === stuck)).toHaveLength(1);

    // The simulator sends a hint when a room turns active; the gateway's next poll is a minute away.
    simulator.sendHints({ gatewayUrl: gateway.url, token: HINT_TOKEN });
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    client.send({ type: "subscribe", roomId });
    const first = await client.next<UpdateMessage>((m) => m.type === "update" && m.roomId === roomId);
    expect(first.result.observation.kind).toBe("starting");
    const seen = await client.next<UpdateMessage>((m) => m.type === "update" && m.roomId === roomId && m.result.observation.kind === "active");
    const receivedAt = performance.now();
    expect(seen.result.observation).toMatchObject({ connection: { exposedPort: simulator.truth(roomId)?.exposedPort } });
    expect(simulator.hintStats()).toMatchObject({ sent: 1, accepted: 1, failed: 0 });
    // Two looks: the first on subscribe, the hinted one. Detection took one hop plus one request.
    expect(proxy.exchanges.filter((e) => e.path.includes(roomId))).toHaveLength(2);
    const hintedAt = simulator.hintStats().sentAt.get(roomId) as number;
    expect(receivedAt - hintedAt).toBeLessThan(1_000);
    expect(await gateway.metricsText()).toMatch(/room_watcher_gateway_hints_total\{outcome="accepted"\} 2/);
    client.ws.close();
    await client.closed;
  });
});

/** A gateway on a fake clock whose upstream is a script (starting, then active), and one subscriber of r1. */
async function scriptedGateway(fleetOptions: Partial<FleetOptions> = {}) {
  const time = fakeClock();
  const upstream = new ScriptedSource([starting, active(7777)], () => time.fake.now, "upstream");
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5, ...fleetOptions });
  // The script is the room's: no start-up probe to take a step of it (or a turn of the budget).
  const gateway = await Gateway.start({ source: upstream, fleet, clock: time.clock, hintToken: HINT_TOKEN, defaultMetrics: false, probeUpstream: false });
  const client = await connectRaw(gateway.url);
  cleanups.push(async () => {
    client.ws.close();
    await client.closed;
    await gateway.close();
    await fleet.close();
    expect(time.timers()).toBe(0);
  });
  client.send({ type: "subscribe", roomId: "r1" });
  await client.next((m) => m.type === "update" && m.result.observation.kind === "starting");
  const startedAt = time.fake.now;
  expect(upstream.calls).toEqual([startedAt]);
  const hint = (token = HINT_TOKEN, roomId = "r1") =>
    sendReadyHint({ gatewayUrl: gateway.url, roomId, token }).then(
      () => 202,
      (error: unknown) => (error instanceof HttpError ? error.status : Promise.reject(error)),
    );
  return { time, upstream, gateway, client, startedAt, hint };
}

describe("what hints cost (fake clock, scripted upstream)", () => {
  it("refused hints cost no request; a burst of accepted ones costs one look, at the floor after the last", async () => {
    const { time, upstream, gateway, client, startedAt, hint } = await scriptedGateway();
    // Forged (no hint token) or for a room nobody here watches: refused, counted, and nothing looked at.
    const refused = await Promise.all([...Array.from({ length: 5 }, () => hint("forged")), ...Array.from({ length: 3 }, () => hint(HINT_TOKEN, "r2"))]);
    expect(refused).toEqual([401, 401, 401, 401, 401, 404, 404, 404]);
    // Twenty real hints at once, all within the floor after the first look: one look, when the floor has passed.
    expect(await Promise.all(Array.from({ length: 20 }, () => hint()))).toEqual(Array.from({ length: 20 }, () => 202));
    expect(upstream.calls).toHaveLength(1);
    await time.tick(DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS);
    expect(upstream.calls).toEqual([startedAt, startedAt + DEFAULT_GATEWAY_MIN_POLL_INTERVAL_MS]);
    await client.next((m) => m.type === "update" && m.result.observation.kind === "active");
    expect(gateway.stats.upstreamRequests).toBe(2);
    const metrics = await gateway.metricsText();
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="unauthorized"\} 5/);
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="unknown_room"\} 3/);
    // The first brought the look forward; the other 19 were coalesced into it (counted apart since issue 18).
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="accepted"\} 1\n/);
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="coalesced"\} 19/);
  });

  it("a hinted look waits for the fleet's request budget", async () => {
    // 4 requests a second, no burst: after the first look, the next may start 250 ms later, hint or not.
    const { time, upstream, startedAt, hint } = await scriptedGateway({ maxRequestsPerSecond: 4, burst: 1 });
    expect(await hint()).toBe(202);
    await time.tick(249);
    expect(upstream.calls).toEqual([startedAt]);
    await time.tick(1);
    expect(upstream.calls).toEqual([startedAt, startedAt + 250]);
  });
});
