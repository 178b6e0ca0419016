/**
 * Readiness hints end to end: the simulator plays the game servers (it sends a hint when a room turns
 * active), a recording proxy shows every upstream request, and the gateway polls so rarely (60 s) that
 * only a hint can explain a prompt detection. A hint is never truth: a mistaken one costs one request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { sendReadyHint } from "../src/gateway/hint-client.js";
import type { UpdateMessage } from "../src/gateway/protocol.js";
import { Gateway } from "../src/gateway/server.js";
import { Simulator } from "../src/simulator/simulator.js";
import { type Exchange, startRecordingProxy } from "./helpers/cli-process.js";
import { connectRaw } from "./helpers/ws-client.js";

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
    const gateway = await Gateway.start({ upstream: proxy.url, appId: APP, hintToken: HINT_TOKEN, pollOptions: RARELY, defaultMetrics: false });
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
