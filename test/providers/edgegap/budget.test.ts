/**
 * Edgegap's request budget across processes: the rule that divides the organisation's 20 status
 * requests/s between gateways (table-driven), two real gateways in shared mode on a real redis-server in
 * front of the fake Edgegap (whose 429s show any overrun of its sliding-second limit), and a 429 from
 * Edgegap pausing a gateway's whole fleet, with and without Retry-After.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, RateLimitedError } from "../../../src/core/errors.js";
import { Gateway } from "../../../src/gateway/server.js";
import { EdgegapHttpSource } from "../../../src/providers/edgegap/http-source.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND, EDGEGAP_RATE_LIMITS, edgegapRequestsPerSecondPerProcess } from "../../../src/providers/edgegap/rate-limits.js";
import { EdgegapSimulator } from "../../../src/simulator/edgegap/simulator.js";
import { Fleet, type PausedEvent } from "../../../src/watch/fleet.js";
import { disposeGatewayClients, gatewayClient } from "../../helpers/gateway-clients.js";
import { startRedisServer, type RedisServer } from "../../helpers/redis-server.js";
import { untilWatcher } from "../../helpers/waiting.js";

const TOKEN = "edgegap-org-token-budget-7d1e";
/** Looks as often as the gateway allows: demand far above any budget, so the budget alone decides the rate. */
const EAGER = { pollIntervalMs: 50, maxPollIntervalMs: 100, activePollIntervalMs: 100 } as const;

describe("edgegapRequestsPerSecondPerProcess", () => {
  it.for([
    { gateways: 1, perProcess: 16 },
    { gateways: 2, perProcess: 8 },
    { gateways: 3, perProcess: 5 },
    { gateways: 4, perProcess: 4 },
    { gateways: 5, perProcess: 3 },
    { gateways: 6, perProcess: 2 },
    { gateways: 7, perProcess: 1 },
    { gateways: 10, perProcess: 1 },
  ])("$gateways gateway(s): $perProcess/s each, and their sum with one burst each stays within 20/s", ({ gateways, perProcess }) => {
    expect(edgegapRequestsPerSecondPerProcess(gateways)).toBe(perProcess);
    expect(gateways * (perProcess + 1)).toBeLessThanOrEqual(EDGEGAP_RATE_LIMITS.status);
    expect(gateways * perProcess).toBeLessThanOrEqual(EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND);
  });

  it.for([{ gateways: 11 }, { gateways: 0 }, { gateways: 1.5 }])("refuses $gateways gateways with a ConfigError", ({ gateways }) => {
    expect(() => edgegapRequestsPerSecondPerProcess(gateways)).toThrow(ConfigError);
  });
});

describe("two gateways in shared mode, one organisation's token", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });

  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function cluster(perGateway: number, seed: number, untilActive = true) {
    const simulator = await EdgegapSimulator.start({ seed, timeScale: 50, token: TOKEN, readyMedianMs: 100_000 });
    cleanups.push(() => simulator.close());
    const gateways: Gateway[] = [];
    for (const name of ["a", "b"]) {
      const fleet = new Fleet({ maxRequestsPerSecond: perGateway });
      const gateway = await Gateway.start({
        source: new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: "gameport" }),
        fleet,
        redis: { url: redis.url, instanceId: `budget-${seed}-${name}`, keyPrefix: `rw-budget-${seed}` },
        pollOptions: EAGER,
        probeUpstream: false,
      });
      cleanups.push(async () => {
        await gateway.close();
        await fleet.close();
      });
      gateways.push(gateway);
    }
    // Half the deployments watched through each gateway, and the other's last one as well: each gateway
    // owns (and polls) its half, and a deployment with subscribers on both is polled once.
    const ids = Array.from({ length: 24 }, () => simulator.createDeployment({ scenario: "ready" }));
    const halves = [ids.slice(0, 12), ids.slice(12)];
    const clients = gateways.map((g, i) => gatewayClient(g.url, [...(halves[i] ?? []), ...(halves[1 - i]?.slice(-1) ?? [])]));
    cleanups.push(() => disposeGatewayClients(clients));
    if (untilActive) await Promise.all(clients.flatMap((c) => [...c.watchers.values()].map((w) => untilWatcher(w, (x) => x.status === "active"))));
    return { simulator, gateways, clients, ids };
  }

  it("at edgegapRequestsPerSecondPerProcess(2) each, every deployment turns active with no 429 from Edgegap", async () => {
    const { simulator, gateways, clients, ids } = await cluster(edgegapRequestsPerSecondPerProcess(2), 21);
    expect(simulator.faultCounts().limit429 ?? 0).toBe(0);
    for (const client of clients) {
      for (const [id, watcher] of client.watchers) expect(watcher.connection?.exposedPort.port).toBe(simulator.truth(id)?.externalPorts.gameport);
    }
    expect(new Set(clients.flatMap((c) => [...c.watchers.keys()]))).toEqual(new Set(ids));
    // Both gateways polled their half.
    for (const gateway of gateways) expect(gateway.stats.upstreamRequests).toBeGreaterThan(12);
  });

  it("at the one-process default (16/s) each, the pair overruns Edgegap's 20/s: 429s (what the rule prevents)", async () => {
    // Only the overrun is in question here: once 429s pause both fleets, every room turning active takes long.
    const { simulator } = await cluster(EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND, 22, false);
    await expect.poll(() => simulator.faultCounts().limit429 ?? 0, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
  });
});

describe("a 429 from Edgegap pauses the gateway's fleet", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.for([
    { name: "with Retry-After: 1, for one second", retryAfterSeconds: 1, minMs: 1_000, maxMs: 1_000 },
    { name: "without Retry-After, for the retry backoff (500 ms, equal jitter)", retryAfterSeconds: undefined, minMs: 250, maxMs: 500 },
  ])("$name; the deployment still turns active", async ({ retryAfterSeconds, minMs, maxMs }) => {
    const simulator = await EdgegapSimulator.start({ seed: 31, timeScale: 50, token: TOKEN, rateLimitRetryAfterSeconds: retryAfterSeconds });
    cleanups.push(() => simulator.close());
    const fleet = new Fleet({ maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND });
    const paused: PausedEvent[] = [];
    fleet.on("paused", (e) => paused.push(e));
    const gateway = await Gateway.start({ source: new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: "gameport" }), fleet, probeUpstream: false });
    cleanups.push(async () => {
      await gateway.close();
      await fleet.close();
    });
    // Edgegap refuses every status request for a moment, as its limit does once overrun.
    simulator.rateLimitBurst("status", 200);
    const id = simulator.createDeployment({ scenario: "ready" });
    const [client] = [gatewayClient(gateway.url, [id])];
    cleanups.push(() => disposeGatewayClients([client]));
    const watcher = client.watchers.get(id);
    if (watcher === undefined) throw new Error("no watcher");
    await untilWatcher(watcher, (w) => w.status === "active");
    const first = paused[0];
    expect(first?.roomId).toBe(id);
    expect(first?.error).toBeInstanceOf(RateLimitedError);
    const pauseMs = (first?.until ?? 0) - (first?.at ?? 0);
    expect(pauseMs).toBeGreaterThanOrEqual(minMs);
    expect(pauseMs).toBeLessThanOrEqual(maxMs);
    expect(simulator.faultCounts().limit429).toBeGreaterThan(0);
    expect(watcher.connection?.exposedPort.port).toBe(simulator.truth(id)?.externalPorts.gameport);
  });
});
