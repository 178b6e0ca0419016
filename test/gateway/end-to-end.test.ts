/**
 * The gateway and the WebSocket source end to end: a real gateway (in-process, or the real CLI) and the
 * real simulator on loopback. One upstream watch however many subscribers; clients that survive the
 * gateway dying and coming back; clients that fall back to polling when it stays gone, and return.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { PollResult } from "../../src/core/observation.js";
import { Gateway } from "../../src/gateway/server.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import type { PollingSource } from "../../src/core/source.js";
import type { EventEmitter } from "eventemitter3";
import type { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import type { FallbackSource } from "../../src/watch/with-fallback.js";
import { killAllCli, spawnCli } from "../helpers/cli-process.js";
import { freeStablePort } from "../helpers/free-port.js";
import { disposeGatewayClients, gatewayClient } from "../helpers/gateway-clients.js";
import { untilWatcher } from "../helpers/waiting.js";

const APP = "app-gw";
const FAST = { activePollIntervalMs: 150, pollIntervalMs: 50, maxPollIntervalMs: 200 } as const;

/** Counts the requests one direct watcher makes. */
class CountingSource implements PollingSource {
  readonly key: string;
  count = 0;
  readonly #inner: PollingSource;
  constructor(inner: PollingSource) {
    this.#inner = inner;
    this.key = `counting:${inner.key}`;
  }
  poll(roomId: string, options: { readonly signal: AbortSignal }): Promise<PollResult> {
    this.count++;
    return this.#inner.poll(roomId, options);
  }
}

function once<T>(source: WebSocketSource | FallbackSource, event: "connected" | "disconnected" | "fallback", matches: (e: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (e: T): void => {
      if (!matches(e)) return;
      (source as EventEmitter).off(event, listener);
      resolve(e);
    };
    (source as EventEmitter).on(event, listener);
  });
}

const activeAt = (port: number | undefined) => (w: RoomWatcher) => w.status === "active" && w.connection?.exposedPort.port === port;
const terminated = (reason: string) => (w: RoomWatcher) => w.state.status === "terminated" && w.state.reason === reason;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllCli();
});

describe("gateway end to end", () => {
  it("500 subscribers of one room cost no more upstream polls than one watcher, and all end right", async () => {
    const simulator = await Simulator.start({ seed: 5, timeScale: 50, appId: APP });
    cleanups.push(() => simulator.close());
    // Counts every upstream request as the room's: no start-up probe (tested in gateway-health).
    const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, pollOptions: FAST, defaultMetrics: false, probeUpstream: false });
    cleanups.push(() => gateway.close());
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });

    const direct = new CountingSource(new HathoraHttpSource({ appId: APP, baseUrl: simulator.url }));
    const directFleet = new Fleet();
    const directWatcher = new RoomWatcher({ roomId, source: direct, fleet: directFleet, ...FAST }).start();
    const clients = Array.from({ length: 500 }, () => gatewayClient(gateway.url, [roomId]));
    const watchers = clients.map((c) => c.watchers.get(roomId) as RoomWatcher);

    await Promise.all([directWatcher, ...watchers].map((w) => untilWatcher(w, (x) => x.status === "active")));
    const port = simulator.truth(roomId)?.exposedPort?.port;
    expect(watchers.every(activeAt(port))).toBe(true);
    expect(gateway.stats).toMatchObject({ connections: 500, subscriptions: 500, rooms: 1 });

    simulator.destroyRoom(APP, roomId);
    await Promise.all([directWatcher, ...watchers].map((w) => untilWatcher(w, terminated("destroyed"))));
    for (const w of watchers) expect(w.lastConnection?.exposedPort.port).toBe(port);

    // Every request the simulator saw for the room came from the gateway's one watch or the direct watcher.
    const upstream = gateway.stats.upstreamRequests;
    expect(simulator.requestCount(roomId, "connectionInfo")).toBe(upstream + direct.count);
    expect(upstream).toBeGreaterThanOrEqual(2);
    // Same schedule, same lifecycle: one watch's worth (jitter may cost one or two looks), not 500.
    expect(upstream).toBeLessThanOrEqual(direct.count + 2);
    expect(gateway.stats.rooms).toBe(0);

    await directFleet.close();
    await disposeGatewayClients(clients);
  });

  it("clients survive the gateway being killed and restarted mid-lifecycle, and end in the right state", async () => {
    const simulator = await Simulator.start({ seed: 8, timeScale: 20, appId: APP });
    cleanups.push(() => simulator.close());
    const token = "client-secret-token";
    const args = ["gateway", "--base-url", simulator.url, "--app-id", APP, "--log-level", "debug", "--client-token", token, "--hint-token", "hint-secret-token"];
    // A port outside the ephemeral range: while the gateway is down no outgoing connection can take it.
    const port = String(await freeStablePort());
    const first = spawnCli([...args, "--port", port], { lifetimeMs: 30_000 });
    const url = await first.line((l) => l.startsWith("ws://"));

    const moving = simulator.createRoom(APP, { scenario: "cold" }); // active, then moved while the gateway is down
    const doomed = simulator.createRoom(APP, { scenario: "never" }); // starting, destroyed while the gateway is down
    const later = simulator.createRoom(APP, { scenario: "cold" }); // becomes active whenever
    const roomIds = [moving.roomId, doomed.roomId, later.roomId];
    const clients = Array.from({ length: 10 }, () => gatewayClient(url, roomIds, { token }));
    const watchersOf = (roomId: string) => clients.map((c) => c.watchers.get(roomId) as RoomWatcher);

    await Promise.all(watchersOf(moving.roomId).map((w) => untilWatcher(w, (x) => x.status === "active")));
    await Promise.all(watchersOf(doomed.roomId).map((w) => untilWatcher(w, (x) => x.status === "starting")));
    const oldPort = simulator.truth(moving.roomId)?.exposedPort?.port;

    const disconnected = clients.map((c) => once(c.source, "disconnected"));
    first.kill("SIGKILL");
    await Promise.all(disconnected);
    simulator.crashProcess(moving.processId);
    expect(simulator.destroyRoom(APP, doomed.roomId)).toBe(true);

    const second = spawnCli([...args, "--port", port], { lifetimeMs: 30_000 });
    expect(await second.line((l) => l.startsWith("ws://"))).toBe(url);

    await Promise.all(watchersOf(doomed.roomId).map((w) => untilWatcher(w, terminated("destroyed"))));
    await Promise.all(
      watchersOf(moving.roomId).map((w) => untilWatcher(w, (x) => x.status === "active" && x.connection?.exposedPort.port !== oldPort)),
    );
    await Promise.all(watchersOf(later.roomId).map((w) => untilWatcher(w, (x) => x.status === "active")));
    const truthPort = simulator.truth(moving.roomId)?.exposedPort?.port;
    expect(simulator.truth(moving.roomId)?.status).toBe("active");
    expect(watchersOf(moving.roomId).every((w) => w.connection?.exposedPort.port === truthPort && w.state.status === "active" && w.state.moved)).toBe(true);
    expect(watchersOf(later.roomId).every(activeAt(simulator.truth(later.roomId)?.exposedPort?.port))).toBe(true);

    await disposeGatewayClients(clients);
    // SIGTERM is a graceful shutdown: exit 0.
    second.kill("SIGTERM");
    const exit = await second.exited;
    expect(exit.code).toBe(0);
    // Logs are JSON lines on stderr, and no token appears in them or on stdout.
    const firstExit = await first.exited;
    for (const output of [exit.stderr, exit.stdout, firstExit.stderr, firstExit.stdout]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain("hint-secret-token");
    }
    const logs = exit.stderr.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["gateway listening", "watching room upstream", "shutting down", "gateway closed"]));
  });

  it("the gateway command refuses bad arguments with exit code 2, naming no token", async () => {
    const runs = await Promise.all(
      [
        ["gateway", "--upstream", "http://127.0.0.1:59"],
        ["gateway", "--upstream", "ftp://example.com", "--app-id", APP, "--token", "tok-secret-1"],
        ["gateway", "--upstream", "http://127.0.0.1:59", "--app-id", APP, "--max-requests-per-second", "0"],
        ["gateway", "--upstream", "http://127.0.0.1:59", "--app-id", APP, "--active-poll-interval", "0"],
        ["gateway", "--upstream", "http://127.0.0.1:59", "--app-id", APP, "--allowed-origin", "https://play.example.com", "play.example.com"],
      ].map((args) => spawnCli(args).exited),
    );
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).not.toContain("tok-secret-1");
    }
    expect(runs[0]?.stderr).toContain("--app-id");
    // Flags, not the library's option names (issue 12).
    expect(runs[1]?.stderr).toContain("--upstream must be http or https");
    expect(runs[2]?.stderr).toContain("option '--max-requests-per-second <n>' argument '0' is invalid");
    expect(runs[3]?.stderr).toContain("option '--active-poll-interval <ms>' argument '0' is invalid");
    expect(runs[4]?.stderr).toContain('--allowed-origin "play.example.com" must be an http(s) origin');
  });

  it("falls back to polling when the gateway stays gone, finishes right, and returns to push when it is back", async () => {
    const simulator = await Simulator.start({ seed: 21, timeScale: 20, appId: APP });
    cleanups.push(() => simulator.close());
    const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, pollOptions: FAST, defaultMetrics: false });
    const fallbackFleet = new Fleet();
    cleanups.push(() => fallbackFleet.close());
    const upstream = new HathoraHttpSource({ appId: APP, baseUrl: simulator.url });

    const moving = simulator.createRoom(APP, { scenario: "cold" });
    const doomed = simulator.createRoom(APP, { scenario: "never" });
    const roomIds = [moving.roomId, doomed.roomId];
    const clients = Array.from({ length: 5 }, () =>
      gatewayClient(gateway.url, roomIds, {}, { polling: upstream, fallbackAfterMs: 100, fleet: fallbackFleet, pollOptions: FAST }),
    );
    const watchersOf = (roomId: string) => clients.map((c) => c.watchers.get(roomId) as RoomWatcher);
    await Promise.all(watchersOf(moving.roomId).map((w) => untilWatcher(w, (x) => x.status === "active")));
    await Promise.all(watchersOf(doomed.roomId).map((w) => untilWatcher(w, (x) => x.status === "starting")));
    const oldPort = simulator.truth(moving.roomId)?.exposedPort?.port;

    const fellBack = clients.map((c) => once(c.fallback as FallbackSource, "fallback", (e: { active: boolean }) => e.active));
    await gateway.close();
    await Promise.all(fellBack);
    expect(clients.every((c) => c.fallback?.fallbackActive)).toBe(true);

    // With the gateway gone, polling alone sees the destroy and the move.
    simulator.crashProcess(moving.processId);
    simulator.destroyRoom(APP, doomed.roomId);
    await Promise.all(watchersOf(doomed.roomId).map((w) => untilWatcher(w, terminated("destroyed"))));
    await Promise.all(watchersOf(moving.roomId).map((w) => untilWatcher(w, (x) => x.status === "active" && x.connection?.exposedPort.port !== oldPort)));
    expect(watchersOf(moving.roomId).every(activeAt(simulator.truth(moving.roomId)?.exposedPort?.port))).toBe(true);

    // The gateway comes back on the same port: every client returns to push.
    const back = clients.map((c) => once(c.fallback as FallbackSource, "fallback", (e: { active: boolean }) => !e.active));
    const revived = await Gateway.start({ baseUrl: simulator.url, appId: APP, port: gateway.port, pollOptions: FAST, defaultMetrics: false });
    cleanups.push(() => revived.close());
    await Promise.all(back);
    expect(clients.every((c) => c.fallback?.fallbackActive === false && c.source.connected)).toBe(true);
    simulator.destroyRoom(APP, moving.roomId);
    await Promise.all(watchersOf(moving.roomId).map((w) => untilWatcher(w, terminated("destroyed"))));
    expect(revived.stats.upstreamRequests).toBeGreaterThan(0);

    await disposeGatewayClients(clients);
  });
});
