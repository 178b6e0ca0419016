/**
 * `room-watcher gateway` as a user runs it (the built CLI as a child process) against the real
 * simulator on loopback: its first stdout line is the WebSocket URL and nothing else is printed;
 * /healthz and /metrics share that port; the limit flags reach the gateway; SIGTERM tells every
 * subscriber it is going away (1001) and exits 0. And `room-watcher demo --gateway`: the demo through
 * an in-process gateway, the simulator playing the game servers that send readiness hints.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type SnapshotMessage, type WelcomeMessage } from "../../src/protocol/messages.js";
import { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { killAllCli, spawnCli } from "../helpers/cli-process.js";
import { json, scriptedServer } from "../helpers/http-server.js";
import { connectRaw } from "../helpers/ws-client.js";

const APP = "app-gw-cli";
const TOKEN = "cli-client-token-42";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllCli();
});

describe("room-watcher gateway (CLI)", () => {
  it("prints its ws URL first, serves /healthz and /metrics on that port, applies its limit flags, and drains on SIGTERM", async () => {
    const simulator = await Simulator.start({ seed: 31, timeScale: 50, appId: APP });
    cleanups.push(() => simulator.close());
    const cli = spawnCli(
      ["gateway", "--base-url", simulator.url, "--app-id", APP, "--client-token", TOKEN, "--max-frame-bytes", "128", "--max-subscriptions", "1", "--max-buffered-bytes", "65536"],
      { lifetimeMs: 20_000 },
    );
    const url = await cli.line(() => true);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const httpUrl = url.replace(/^ws:/, "http:");

    const health = await fetch(`${httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", connections: 0, rooms: 0 });
    const metrics = await fetch(`${httpUrl}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("room_watcher_gateway_connections 0");

    // The limits the flags set are the ones the gateway announces and enforces.
    const subscriber = await connectRaw(url, { token: TOKEN });
    const welcome = await subscriber.next<WelcomeMessage>((m) => m.type === "welcome");
    expect(welcome.maxSubscriptionsPerConnection).toBe(1);
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    subscriber.send({ type: "subscribe", roomId });
    expect(await subscriber.next<SnapshotMessage>((m) => m.type === "snapshot")).toMatchObject({ roomId, seq: 0 });
    subscriber.send({ type: "subscribe", roomId: "second-room" });
    expect(await subscriber.next((m) => m.type === "error")).toMatchObject({ code: "too_many_subscriptions", roomId: "second-room" });
    const oversize = await connectRaw(url, { token: TOKEN });
    oversize.send({ type: "subscribe", roomId: "a".repeat(100) }); // 133 bytes > 128
    expect((await oversize.closed).code).toBe(GatewayCloseCode.MESSAGE_TOO_BIG);

    // SIGTERM: the subscriber hears "going away" and the process exits 0.
    cli.kill("SIGTERM");
    expect(await subscriber.closed).toEqual({ code: GatewayCloseCode.GOING_AWAY, reason: "gateway shutting down" });
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe(`${url}\n`);
    expect(exit.stderr).not.toContain(TOKEN);
    const logs = exit.stderr.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; code?: number });
    expect(logs.find((l) => l.msg === "closing connection" && l.code === GatewayCloseCode.GOING_AWAY)).toBeDefined();
    expect(logs.at(-1)?.msg).toBe("gateway closed");
  });

  it("refuses a limit flag of 0 with exit code 2", async () => {
    const runs = await Promise.all(
      [
        ["--max-frame-bytes", "0"],
        ["--max-buffered-bytes", "0"],
      ].map((flag) => spawnCli(["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, ...flag]).exited),
    );
    expect(runs.map((r) => r.code)).toEqual([2, 2]);
    expect(runs.map((r) => r.stdout)).toEqual(["", ""]);
    // The flag, not the library's option name (issue 12).
    expect(runs[0]?.stderr).toContain("option '--max-frame-bytes <n>' argument '0' is invalid");
    expect(runs[1]?.stderr).toContain("option '--max-buffered-bytes <n>' argument '0' is invalid");
  });

  it("applies the abuse flags: /metrics behind --metrics-token, --max-unseen-rooms, --max-failed-auths; refuses 0 naming the flag", async () => {
    const metricsToken = "scrape-token-9";
    const cli = spawnCli(
      ["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, "--client-token", TOKEN, "--metrics-token", metricsToken, "--max-unseen-rooms", "1", "--max-failed-auths", "1", "--handshake-timeout", "3000", "--trusted-proxy", "10.0.0.2"],
      { lifetimeMs: 20_000 },
    );
    const url = await cli.line(() => true);
    const httpUrl = url.replace(/^ws:/, "http:");
    expect((await fetch(`${httpUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${httpUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
    const client = await connectRaw(url, { token: TOKEN });
    client.send({ type: "subscribe", roomId: "ghost-1" });
    client.send({ type: "subscribe", roomId: "ghost-2" });
    expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "too_many_subscriptions", roomId: "ghost-2", message: "at most 1 rooms not yet seen to exist per connection" });
    // One wrong token, then this address is refused before the upgrade.
    await (await connectRaw(url, { token: "wrong" })).closed;
    await expect(connectRaw(url, { token: TOKEN })).rejects.toThrow("HTTP 429");
    cli.kill("SIGTERM");
    await client.closed;
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout + exit.stderr).not.toContain(metricsToken);
    const zero = await spawnCli(["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, "--max-unseen-rooms", "0"]).exited;
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("option '--max-unseen-rooms <n>' argument '0' is invalid");
  });

  it.each([
    ["--token, which is the rooms API's now: the gateway says it is open", ["--base-url", "--token"], true],
    ["the old names --upstream and --upstream-token: no warning", ["--upstream", "--upstream-token"], false],
  ] as const)("%s", async (_name, [baseUrlFlag, tokenFlag], warned) => {
    const upstreamToken = "rooms-api-token-7";
    const upstream = await scriptedServer();
    cleanups.push(() => upstream.close());
    upstream.handle((_req, res) => json(res, 404, { message: "not found" }));
    const cli = spawnCli(["gateway", baseUrlFlag, upstream.url, "--app-id", APP, tokenFlag, upstreamToken], { lifetimeMs: 20_000 });
    const url = await cli.line(() => true);
    // The start-up probe carried the token to the rooms API, and a client with no token is let in.
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${upstreamToken}`);
    const client = await connectRaw(url);
    expect(await client.next<WelcomeMessage>((m) => m.type === "welcome")).toMatchObject({ type: "welcome" });
    cli.kill("SIGTERM");
    await client.closed;
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout + exit.stderr).not.toContain(upstreamToken);
    const warnings = exit.stderr.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; level: number }).filter((l) => l.level === 40);
    expect(warnings.map((l) => l.msg)).toEqual(
      warned ? ["--token is the rooms API's token (as for wait and watch); the clients' token is --client-token, and without it any client may connect"] : [],
    );
  });
});

describe("room-watcher demo --gateway", () => {
  it("watches every room through the gateway, the simulated game servers sending hints, and ends matching the truth", async () => {
    const result = await spawnCli(["demo", "--gateway", "--json", "--time-scale", "50"], { lifetimeMs: 20_000 }).exited;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] as string) as {
      rooms: number;
      matching: number;
      timedOut: boolean;
      gateway: { hints: { sent: number; accepted: number; failed: number }; upstreamRequests: number };
      results: Array<{ kind: string; requests: number }>;
    };
    expect(summary).toMatchObject({ timedOut: false, matching: summary.rooms });
    expect(summary.rooms).toBeGreaterThanOrEqual(10);
    // One hint each time a room turns active (a rescheduled room does twice). A hint that arrives after the
    // gateway's own look saw the room active, and the demo stopped watching it, finds the room gone: refused.
    const turnsActive = summary.results.filter((r) => r.kind === "cold" || r.kind === "warm").length + 2 * summary.results.filter((r) => r.kind === "rescheduled").length;
    const { sent, accepted, failed } = summary.gateway.hints;
    expect(sent).toBe(turnsActive);
    expect(accepted + failed).toBe(sent);
    expect(accepted).toBeGreaterThan(0);
    // Every request the simulator saw for the rooms (counted as each room settled) was the gateway's.
    expect(summary.results.reduce((n, r) => n + r.requests, 0)).toBeLessThanOrEqual(summary.gateway.upstreamRequests);
  });
});
