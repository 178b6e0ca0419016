/**
 * The dashboard over real HTTP on loopback, against the simulator: off unless asked for; its page and
 * files served with the security headers and no inline script; its figures behind the metrics token;
 * bad input answered 401 (counted, towards the lockout, nothing echoed), 400 or 404, none costing an
 * upstream request; a snapshot that shows rooms going active, the rate against the budget, a 429 pause,
 * detection latency and the events; `since` delivering each event once; a page that stops polling
 * costing nothing, the events kept bounded.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { DASHBOARD_EVENTS } from "../../../src/gateway/dashboard/dashboard.js";
import type { DashboardSnapshot } from "../../../src/gateway/dashboard/snapshot.js";
import { Gateway, type GatewayOptions } from "../../../src/gateway/server.js";
import { Simulator } from "../../../src/simulator/simulator.js";
import { Fleet } from "../../../src/watch/fleet.js";
import { disposeGatewayClients, gatewayClient } from "../../helpers/gateway-clients.js";
import { untilWatcher } from "../../helpers/waiting.js";

const APP = "app-dashboard";
const TOKEN = "dash s3cret-metrics-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };

let simulator: Simulator;
beforeAll(async () => {
  simulator = await Simulator.start({ seed: 11, timeScale: 50 });
});
afterAll(async () => {
  await simulator.close();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startGateway(options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, metricsToken: TOKEN, dashboard: true, defaultMetrics: false, ...options });
  cleanups.push(() => gateway.close());
  return gateway;
}

async function get(gateway: Gateway, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.httpUrl}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function snapshot(gateway: Gateway, since = 0): Promise<DashboardSnapshot> {
  const answer = await get(gateway, `/dashboard/api/snapshot?since=${since}`, AUTH);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as DashboardSnapshot;
}

/** The value of one sample of /metrics, 0 when absent. */
async function metric(gateway: Gateway, sample: string): Promise<number> {
  const line = (await gateway.metricsText()).split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

describe("the dashboard's routes", () => {
  it("is off by default: every dashboard path is the plain 404", async () => {
    const gateway = await startGateway({ dashboard: undefined });
    for (const path of ["/dashboard", "/dashboard/app.js", "/dashboard/api/snapshot"]) {
      const answer = await get(gateway, path, AUTH);
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toEqual({ message: "not found" });
      expect(answer.headers.get("content-security-policy")).toBeNull();
    }
    expect(gateway.dashboardUrl).toBeUndefined();
  });

  it("refuses to be built without a metrics token: its data is never open", () => {
    expect(() => new Gateway({ baseUrl: simulator.url, appId: APP, dashboard: true })).toThrow(ConfigError);
    expect(() => new Gateway({ baseUrl: simulator.url, appId: APP, dashboard: true })).toThrow(/dashboard needs a metricsToken/);
  });

  it("serves its page, script and style without a token, with the security headers and no inline script or style", async () => {
    const gateway = await startGateway();
    expect(gateway.dashboardUrl).toBe(`${gateway.httpUrl}/dashboard`);
    const expected: Array<[string, string]> = [
      ["/dashboard", "text/html; charset=utf-8"],
      ["/dashboard/app.js", "text/javascript; charset=utf-8"],
      ["/dashboard/app.css", "text/css; charset=utf-8"],
    ];
    for (const [path, contentType] of expected) {
      const answer = await get(gateway, path);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe(contentType);
      const csp = answer.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("cache-control")).toBe("no-store");
    }
    const page = (await get(gateway, "/dashboard")).body;
    expect(page).toContain('<script type="module" src="dashboard/app.js"></script>');
    // Every script has a src and is empty; no element carries a style attribute or an event handler.
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/<script[^>]*>[^<]+<\/script>/);
    expect(page).not.toMatch(/\sstyle=|\son[a-z]+=/);
    for (const id of ["status", "rooms-waiting", "rooms-starting", "rooms-active", "rooms-ended-total", "connections", "subscribers", "request-rate", "request-budget", "rate-limited", "rate-chart", "latency-histogram", "events"]) {
      expect(page).toContain(`id="${id}"`);
    }
  });

  it("answers bad input with 401 (counted, nothing echoed), 400 and 404, none costing an upstream request", async () => {
    const gateway = await startGateway();
    const before = gateway.stats.upstreamRequests;
    const cases: Array<[path: string, headers: Record<string, string>, status: number, message: string]> = [
      ["/dashboard/api/snapshot", {}, 401, "Unauthorized"],
      ["/dashboard/api/snapshot", { authorization: `Bearer ${TOKEN}x` }, 401, "Unauthorized"],
      ["/dashboard/api/snapshot", { authorization: `Basic ${TOKEN}` }, 401, "Unauthorized"],
      // A token where it does not belong is no token at all, and is not repeated back.
      [`/dashboard/api/snapshot?token=${encodeURIComponent(TOKEN)}`, {}, 401, "Unauthorized"],
      ["/dashboard/api/snapshot?since=-1", AUTH, 400, "since must be a non-negative integer (the seq of the last event seen)"],
      ["/dashboard/api/snapshot?since=%zz", AUTH, 400, "malformed query string: bad percent-encoding"],
      ["/dashboard/api/snapshot?since=1&since=2", AUTH, 400, "since is given more than once"],
      [`/dashboard/api/snapshot?token=${encodeURIComponent(TOKEN)}`, AUTH, 400, 'unknown query parameter "token": the only one is since'],
      ["/dashboard/api/nope", AUTH, 404, "not found"],
      ["/dashboard/", AUTH, 404, "not found"],
    ];
    for (const [path, headers, status, message] of cases) {
      const answer = await get(gateway, path, headers);
      expect({ path, status: answer.status }).toEqual({ path, status });
      expect(JSON.parse(answer.body)).toEqual({ message });
      expect(answer.body).not.toContain("s3cret");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("cache-control")).toBe("no-store");
    }
    const posted = await fetch(`${gateway.httpUrl}/dashboard/api/snapshot`, { method: "POST", headers: AUTH, body: "{}" });
    expect(posted.status).toBe(404);
    await posted.text();
    expect(gateway.stats.upstreamRequests).toBe(before);
    expect(await metric(gateway, 'room_watcher_gateway_dashboard_requests_total{outcome="unauthorized"}')).toBe(4);
    expect(await metric(gateway, 'room_watcher_gateway_dashboard_requests_total{outcome="invalid"}')).toBe(4);
    expect(await metric(gateway, 'room_watcher_gateway_dashboard_requests_total{outcome="not_found"}')).toBe(3);
  });

  it("locks out an address after too many wrong tokens (429, even with the right one), as for hints", async () => {
    const gateway = await startGateway({ limits: { maxFailedAuthsPerMinute: 2 } });
    expect((await get(gateway, "/dashboard/api/snapshot", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get(gateway, "/dashboard/api/snapshot", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get(gateway, "/dashboard/api/snapshot", AUTH)).status).toBe(429);
    expect(await metric(gateway, 'room_watcher_gateway_dashboard_requests_total{outcome="locked_out"}')).toBe(1);
  });
});

describe("the dashboard's figures", () => {
  it("shows rooms going active, connections, subscribers, the rate against the budget, detection latency and the events; since delivers each event once", async () => {
    const gateway = await startGateway();
    const rooms = Array.from({ length: 3 }, () => simulator.createRoom(APP, { scenario: "cold" }).roomId);
    const client = gatewayClient(gateway.url, rooms);
    await Promise.all([...client.watchers.values()].map((w) => untilWatcher(w, (x) => x.status === "active")));

    const first = await snapshot(gateway);
    expect(first.rooms).toEqual({ waiting: 0, starting: 0, active: 3, totals: { starting: 3, active: 3, ended: 0 } });
    expect(first.connections).toBe(1);
    expect(first.subscribers).toBe(3);
    expect(first.health.status).toBe("ok");
    expect(first.upstream).toMatchObject({ polling: true, budgetPerSecond: 100, rateLimited: 0, pausedUntil: null });
    expect(first.upstream.requests).toBeGreaterThanOrEqual(4); // the start-up probe and a look at each room
    expect(first.upstream.series.length).toBeLessThanOrEqual(60);
    expect(first.detectionLatency.count).toBe(3);
    expect(first.detectionLatency.buckets.reduce((sum, b) => sum + b.count, 0)).toBe(3);
    expect(first.detectionLatency.buckets.at(-1)?.leMs).toBeNull();
    const actives = first.events.filter((e) => e.kind === "active").map((e) => e.roomId);
    expect(actives.sort()).toEqual([...rooms].sort());
    expect(first.events.map((e) => e.seq)).toEqual(Array.from({ length: first.lastSeq }, (_, i) => i + 1));

    // The live feed: a poll with the last seq gets only what happened since.
    const ended = rooms[0] ?? "";
    simulator.destroyRoom(APP, ended);
    await untilWatcher(client.watchers.get(ended)!, (w) => w.status === "terminated");
    const second = await snapshot(gateway, first.lastSeq);
    expect(second.events.map((e) => [e.kind, e.roomId, e.detail])).toEqual([["ended", ended, "destroyed"]]);
    expect(second.events[0]?.seq).toBe(first.lastSeq + 1);
    expect(second.rooms).toMatchObject({ active: 2, totals: { ended: 1 } });
    expect(second.subscribers).toBe(2);
    const third = await snapshot(gateway, second.lastSeq);
    expect(third.events).toEqual([]);
    expect(third.lastSeq).toBe(second.lastSeq);
    await disposeGatewayClients([client]);
  });

  it("tells a move: a room active again at another address is a `moved` event with its new address", async () => {
    const gateway = await startGateway({ pollOptions: { activePollIntervalMs: 50 } });
    const roomId = simulator.createRoom(APP, { scenario: "cold" }).roomId;
    const client = gatewayClient(gateway.url, [roomId]);
    const watcher = client.watchers.get(roomId)!;
    await untilWatcher(watcher, (w) => w.status === "active");
    const before = await snapshot(gateway);
    simulator.crashProcess(simulator.processOf(roomId)!);
    await untilWatcher(watcher, (w) => w.status === "active" && w.state.status === "active" && w.state.moved);
    const truth = simulator.truth(roomId);
    const after = await snapshot(gateway, before.lastSeq);
    expect(after.events.filter((e) => e.kind === "moved").map((e) => [e.roomId, e.detail])).toEqual([[roomId, `${truth?.exposedPort?.host}:${truth?.exposedPort?.port}`]]);
    await disposeGatewayClients([client]);
  });

  it("marks a 429 pause: counted, its end given, an event", async () => {
    const fleet = new Fleet();
    cleanups.push(() => fleet.close());
    const gateway = await startGateway({ fleet });
    const paused = new Promise<void>((resolve) => fleet.once("paused", () => resolve()));
    simulator.setFaults({ rateLimit: { probability: 1, retryAfterSeconds: 30 } });
    cleanups.push(() => Promise.resolve(simulator.setFaults({})));
    const roomId = simulator.createRoom(APP, { scenario: "cold" }).roomId;
    const client = gatewayClient(gateway.url, [roomId]);
    await paused;
    const seen = await snapshot(gateway);
    expect(seen.upstream.rateLimited).toBeGreaterThanOrEqual(1);
    expect(seen.upstream.pausedUntil).toBeGreaterThan(seen.at);
    expect(seen.events).toContainEqual(expect.objectContaining({ kind: "paused", roomId }));
    await disposeGatewayClients([client]);
  });

  it("a page that stops polling costs nothing: the latest events are kept, the older ones dropped, the seq counts them all", async () => {
    const gateway = await startGateway({ notFoundGraceMs: 0, notFoundMemoryMs: 0 });
    // Rooms that do not exist end as not found at their first look: one `ended` event each.
    const ghosts = Array.from({ length: DASHBOARD_EVENTS + 10 }, (_, i) => `ghost-${i}`);
    const client = gatewayClient(gateway.url, ghosts);
    await Promise.all([...client.watchers.values()].map((w) => untilWatcher(w, (x) => x.status === "terminated")));
    // (A watcher asks again while its own not-found grace lasts: a room may end more than once.)
    const seen = await snapshot(gateway);
    expect(seen.lastSeq).toBeGreaterThanOrEqual(ghosts.length);
    expect(seen.events).toHaveLength(DASHBOARD_EVENTS);
    expect(seen.events.map((e) => e.seq)).toEqual(Array.from({ length: DASHBOARD_EVENTS }, (_, i) => seen.lastSeq - DASHBOARD_EVENTS + 1 + i));
    expect(seen.events.every((e) => e.kind === "ended" && e.detail === "not_found")).toBe(true);
    expect(seen.rooms.totals.ended).toBe(seen.lastSeq);
    await disposeGatewayClients([client]);
  });
});
