/**
 * The gateway's credentials and honest health, through real sockets: a token with a space admits the
 * client that presents it (and its hints); a token no client could present refuses to start; /healthz
 * says degraded (with the reason) while the upstream fails or Redis is gone, ok again once it recovers,
 * draining (503) while close() waits for clients; the upstream's trouble is logged at warn when it
 * starts, at most once a minute while it lasts (on a fake clock), and when it ends; the start-up probe
 * makes a wrong upstream visible at once and leaves nothing behind.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PollResult } from "../../src/core/observation.js";
import { ConfigError, GatewayError, NetworkError } from "../../src/core/errors.js";
import { sendReadyHint } from "../../src/sources/ready-hint.js";
import type { GatewayLogger, LogFields } from "../../src/gateway/logging.js";
import { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import type { GatewayRedisEvent } from "../../src/gateway/server.js";
import { Gateway, PROBE_ROOM_ID, PROBE_WAIT_MS } from "../../src/gateway/server.js";
import { UPSTREAM_WARN_INTERVAL_MS } from "../../src/gateway/upstream-health.js";
import { Simulator } from "../../src/simulator/simulator.js";
import type { SourceListener } from "../../src/core/source.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { killAllCli, spawnCli } from "../helpers/cli-process.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { json, scriptedServer } from "../helpers/http-server.js";
import { freeStablePort } from "../helpers/free-port.js";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.js";
import { ScriptedSource, starting } from "../helpers/scripted-source.js";
import { conditions } from "../helpers/waiting.js";
import { connectRaw, silentPeer } from "../helpers/ws-client.js";

const APP = "app-gw-health";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllCli();
});

interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: LogFields;
  readonly at: number;
}

/** A logger that keeps every line (stamped by `now`), and lets a test wait for one. */
function recordingLogger(now: () => number = () => performance.now()) {
  const lines: LogLine[] = [];
  const { notify, until } = conditions();
  const at = (level: LogLine["level"]) => (fields: LogFields, message: string) => {
    lines.push({ level, message, fields, at: now() });
    notify();
  };
  const logger: GatewayLogger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return {
    logger,
    lines,
    warns: () => lines.filter((l) => l.level === "warn"),
    until: (done: () => boolean) => until(done),
  };
}

interface Health {
  status: string;
  reasons: string[];
  connections: number;
  rooms: number;
  upstreamRequests: number;
  redis?: string;
}

async function healthz(gateway: Gateway): Promise<{ code: number; body: Health }> {
  const response = await fetch(`${gateway.httpUrl}/healthz`);
  return { code: response.status, body: (await response.json()) as Health };
}

/** The first thing a source tells a listener about a room: a result, or why it gave up. */
function firstWord(source: WebSocketSource, roomId: string): Promise<{ result?: PollResult; fatal?: unknown; unsubscribe: () => Promise<void> }> {
  return new Promise((resolve) => {
    const listener: SourceListener = {
      onResult: (result) => resolve({ result, unsubscribe: () => subscription.unsubscribe() }),
      onTransientFailure: () => undefined,
      onFatal: (fatal) => resolve({ fatal, unsubscribe: () => subscription.unsubscribe() }),
    };
    const subscription = source.subscribe(roomId, listener);
  });
}

describe("gateway tokens", () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await Simulator.start({ seed: 12, timeScale: 50, appId: APP });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it("a client token with spaces admits WebSocketSource presenting it, and a hint token with spaces admits its hints; wrong ones are still refused", async () => {
    const token = "open sesame, says the client";
    const hintToken = "hint  with  two-space gaps";
    const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, clientToken: token, hintToken, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });

    const source = new WebSocketSource({ url: gateway.url, token });
    const heard = await firstWord(source, roomId);
    expect(heard.fatal).toBeUndefined();
    expect(heard.result?.observation.kind).toMatch(/^(starting|active)$/);
    // The room is watched now: a hint for it with the hint token is accepted, not refused as 401.
    await expect(sendReadyHint({ gatewayUrl: gateway.url, roomId, token: hintToken })).resolves.toBeUndefined();
    await expect(sendReadyHint({ gatewayUrl: gateway.url, roomId, token: "hint  with" })).rejects.toMatchObject({ status: 401 });
    await expect(sendReadyHint({ gatewayUrl: gateway.url, roomId, token: `${hintToken} extra` })).rejects.toMatchObject({ status: 401 });

    // Part of the credential, more than it, or the library's source presenting a wrong one: 4401.
    for (const wrong of ["open", "open sesame,", `${token} too`]) {
      const client = await connectRaw(gateway.url, { token: wrong });
      expect((await client.closed).code, wrong).toBe(GatewayCloseCode.UNAUTHORIZED);
    }
    const forged = await firstWord(new WebSocketSource({ url: gateway.url, token: "open sesame" }), roomId);
    expect(forged.fatal).toBeInstanceOf(GatewayError);
    expect((forged.fatal as GatewayError).reason).toBe("unauthorized");
    await Promise.all([heard.unsubscribe(), forged.unsubscribe()]);
    expect(source.pendingTimers).toBe(0);
  });

  const unusable: ReadonlyArray<readonly [option: "clientToken" | "hintToken" | "token", value: string, reason: RegExp]> = [
    ["clientToken", "s3cret\n", /line feed/],
    ["clientToken", " s3cret", /whitespace/],
    ["hintToken", "hint\u0000s3cret", /NUL/],
    ["hintToken", "hint-s3cret\u00e9", /printable ASCII/],
    ["token", "up\rs3cret", /carriage return/],
    ["token", "up-s3cret\t", /whitespace/],
  ];
  it.each(unusable)("Gateway.start refuses %s %j, which no client could present, naming it and never echoing it", async (option, value, reason) => {
    const logger = recordingLogger();
    const error = await Gateway.start({ baseUrl: simulator.url, appId: APP, [option]: value, logger: logger.logger, defaultMetrics: false }).then(
      async (gateway) => {
        await gateway.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^${option} `));
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain("s3cret");
    // Refused before anything listened or asked the upstream.
    expect(logger.lines).toEqual([]);
  });
});

describe("/healthz and the upstream's trouble, through real sockets", () => {
  it("an unreachable upstream: the start-up probe makes it degraded with the reason and one warn; once it answers, ok again and the recovery is logged", async () => {
    const port = await freeStablePort();
    const logs = recordingLogger();
    const gateway = await Gateway.start({ baseUrl: `http://127.0.0.1:${port}`, appId: APP, logger: logs.logger, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    await logs.until(() => logs.warns().length > 0);

    const degraded = await healthz(gateway);
    expect(degraded.code).toBe(200);
    expect(degraded.body).toMatchObject({ status: "degraded", connections: 0, rooms: 0, upstreamRequests: 1 });
    expect(degraded.body.reasons).toEqual([expect.stringMatching(/^upstream: 100% of the last 1 request failed, last error: RW_NETWORK .*ECONNREFUSED/)]);
    expect(gateway.health).toEqual({ status: "degraded", reasons: degraded.body.reasons });
    expect(logs.warns().map((l) => l.message)).toEqual([`upstream failing: ${degraded.body.reasons[0]}`]);
    expect(logs.warns()[0]?.fields).toMatchObject({ failures: 1, lastError: expect.stringContaining("ECONNREFUSED") });
    // Nothing more is logged or judged while nothing asks the upstream.
    expect((await healthz(gateway)).body.status).toBe("degraded");
    expect(logs.warns()).toHaveLength(1);

    // The upstream comes up on that port; the first look at a room succeeds.
    const simulator = await Simulator.start({ seed: 13, timeScale: 50, appId: APP, port });
    cleanups.push(() => simulator.close());
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    const client = await connectRaw(gateway.url);
    client.send({ type: "subscribe", roomId });
    await client.next((m) => m.type === "snapshot" && m.roomId === roomId);
    await logs.until(() => logs.warns().length > 1);
    expect(logs.warns().map((l) => l.message)).toEqual([`upstream failing: ${degraded.body.reasons[0]}`, "upstream recovered after 1 failure"]);
    const ok = await healthz(gateway);
    expect(ok.code).toBe(200);
    expect(ok.body).toMatchObject({ status: "ok", reasons: [], rooms: 1 });
    client.ws.close();
    await client.closed;
  });

  it("an upstream that echoes the upstream token in its errors: the reason and the log carry the error, never the token", async () => {
    const upstreamToken = "upstream s3cret token";
    const echo = await scriptedServer();
    cleanups.push(() => echo.close());
    echo.handle((req, res) => json(res, 502, { message: `bad gateway for ${req.headers.authorization ?? ""}` }));
    const logs = recordingLogger();
    const gateway = await Gateway.start({ baseUrl: echo.url, appId: APP, token: upstreamToken, logger: logs.logger, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    await logs.until(() => logs.warns().length > 0);
    // The probe carried the whole token (spaces included) to the upstream.
    expect(echo.requests[0]?.headers.authorization).toBe(`Bearer ${upstreamToken}`);
    const { body } = await healthz(gateway);
    expect(body.status).toBe("degraded");
    expect(body.reasons).toEqual([expect.stringMatching(/^upstream: 100% of the last 1 request failed, last error: RW_HTTP .*502/)]);
    expect(JSON.stringify(body)).not.toContain("s3cret");
    expect(JSON.stringify(logs.lines)).not.toContain("s3cret");
  });

  it("a correct upstream answers the probe with 404: ok from the start, nothing logged at warn", async () => {
    const simulator = await Simulator.start({ seed: 14, timeScale: 50, appId: APP });
    cleanups.push(() => simulator.close());
    const logs = recordingLogger();
    const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, logger: logs.logger, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    // Start waited for the probe's answer: it is counted already.
    expect(simulator.requestCount(PROBE_ROOM_ID, "connectionInfo")).toBe(1);
    expect(await gateway.metricsText()).toMatch(/room_watcher_gateway_upstream_requests_total\{outcome="not_found"\} 1/);
    expect(await healthz(gateway)).toEqual({ code: 200, body: expect.objectContaining({ status: "ok", reasons: [], upstreamRequests: 1 }) });
    expect(logs.warns()).toEqual([]);
  });

  it("a wrong host that answers 404 with its own page: the probe says so at warn and on /healthz until a room's status is answered", async () => {
    const web = await scriptedServer();
    cleanups.push(() => web.close());
    web.handle((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<html><h1>Not Found</h1></html>"));
    const logs = recordingLogger();
    const gateway = await Gateway.start({ baseUrl: web.url, appId: APP, logger: logs.logger, defaultMetrics: false });
    cleanups.push(() => gateway.close());
    const hint = "an HTML page answered, not the rooms API: is the base URL right?";
    expect(logs.warns().map((l) => l.message)).toEqual([`upstream probe: a 404 that did not come from the rooms API: ${hint}`]);
    expect(await healthz(gateway)).toEqual({
      code: 200,
      body: expect.objectContaining({ status: "degraded", reasons: [`upstream: the start-up probe's 404 did not come from the rooms API (${hint})`] }),
    });
    // The URL was right after all (a proxy in front of it, say): the first room it answers clears the doubt.
    web.handle((_req, res) => json(res, 200, { additionalExposedPorts: [], status: "starting", roomId: "room-1" }));
    // Unsubscribing its only room closes the source's socket.
    const { result, unsubscribe } = await firstWord(new WebSocketSource({ url: gateway.url }), "room-1");
    expect(result?.observation).toEqual({ kind: "starting" });
    await unsubscribe();
    expect((await healthz(gateway)).body).toMatchObject({ status: "ok", reasons: [] });
  });

  it("draining while close() waits for a client: /healthz answers 503 draining, a new WebSocket client is refused with 503", async () => {
    const time = fakeClock();
    const gateway = await Gateway.start({ baseUrl: "http://127.0.0.1:59", appId: APP, clock: time.clock, shutdownGraceMs: 3_000, defaultMetrics: false, limits: { heartbeatIntervalMs: 0 } });
    // A peer that completes the handshake by hand and never answers the going-away close, so close() waits.
    const { ended } = await silentPeer(gateway.port);
    expect((await healthz(gateway)).body.status).toBe("degraded"); // port 9 refuses the probe

    const closing = gateway.close();
    const draining = await healthz(gateway);
    expect(draining.code).toBe(503);
    expect(draining.body).toMatchObject({ status: "draining", connections: 1 });
    expect(draining.body.reasons[0]).toBe("draining: the gateway is closing; new connections are refused");
    expect(draining.body.reasons[1]).toMatch(/^upstream: /);
    await expect(connectRaw(gateway.url)).rejects.toThrow(/503/);

    await time.tick(3_000);
    await closing;
    await ended;
    await expect(fetch(`${gateway.httpUrl}/healthz`)).rejects.toThrow();
    expect(time.timers()).toBe(0);
  });
});

describe("room-watcher gateway (CLI) with a wrong upstream", () => {
  it("logs the probe's failure at warn, with its cause, before it prints its URL; /healthz says degraded", async () => {
    const port = await freeStablePort();
    const cli = spawnCli(["gateway", "--base-url", `http://127.0.0.1:${port}`, "--app-id", APP], { lifetimeMs: 10_000 });
    const url = await cli.line(() => true);
    const response = await fetch(`${url.replace(/^ws:/, "http:")}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "degraded", reasons: [expect.stringMatching(/^upstream: 100% of the last 1 request failed, last error: RW_NETWORK .*ECONNREFUSED/)] });
    cli.kill("SIGTERM");
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    const logs = exit.stderr.trim().split("\n").map((l) => JSON.parse(l) as { level: number; msg: string; failures?: number });
    const warns = logs.filter((l) => l.level === 40);
    expect(warns).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^upstream failing: upstream: 100% of the last 1 request failed, last error: RW_NETWORK .*ECONNREFUSED/), failures: 1 })]);
    expect(logs.findIndex((l) => l.msg.startsWith("upstream failing"))).toBeLessThan(logs.findIndex((l) => l.msg === "gateway listening"));
  });
});

describe("upstream trouble on a fake clock", () => {
  it("logs the start at once, at most one line a minute while it lasts however many requests fail, and the end", async () => {
    const time = fakeClock();
    const upstream = new ScriptedSource([new NetworkError("request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:1")], () => time.fake.now, "upstream");
    const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
    const logs = recordingLogger(() => time.fake.now);
    const startedAt = time.fake.now;
    const gateway = await Gateway.start({ source: upstream, fleet, clock: time.clock, logger: logs.logger, defaultMetrics: false, limits: { heartbeatIntervalMs: 0 } });
    const client = await connectRaw(gateway.url);
    client.send({ type: "subscribe", roomId: "r1" });
    await client.next((m) => m.type === "snapshot");

    // The probe failed at start: logged at once.
    expect(logs.warns().map((l) => [l.at, l.message])).toEqual([[startedAt, "upstream failing: upstream: 100% of the last 1 request failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:1"]]);
    await time.tick(150_000);
    const failing = logs.warns();
    // Many failed looks, three lines: the start, then one per minute (each with a failure that came after a full interval).
    expect(upstream.calls.length).toBeGreaterThan(10);
    expect(failing.map((l) => l.message)).toEqual([
      expect.stringMatching(/^upstream failing: upstream: 100% of the last 1 request failed/),
      expect.stringMatching(/^upstream failing: upstream: 100% of the last \d+ requests failed, last error: RW_NETWORK /),
      expect.stringMatching(/^upstream failing: upstream: 100% of the last \d+ requests failed, last error: RW_NETWORK /),
    ]);
    const gaps = failing.slice(1).map((l, i) => l.at - (failing[i] as LogLine).at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(UPSTREAM_WARN_INTERVAL_MS);
    // Every look so far failed: the count is every look up to the line.
    const third = failing[2] as LogLine;
    expect(third.fields).toMatchObject({ failures: upstream.calls.filter((at) => at <= third.at).length, troubleMs: third.at - startedAt });

    // The upstream answers again: ok once successes are the majority of the window, and that is logged once.
    upstream.script([starting]);
    const failures = upstream.calls.length;
    for (let i = 0; i < 200 && logs.warns().length === failing.length; i++) await time.fake.nextAsync();
    expect(logs.warns().slice(failing.length).map((l) => l.message)).toEqual([`upstream recovered after ${failures} failures`]);
    expect(gateway.health).toEqual({ status: "ok", reasons: [] });
    await time.tick(60_000);
    expect(logs.warns()).toHaveLength(failing.length + 1);

    client.ws.close();
    await client.closed;
    await gateway.close();
    await fleet.close();
    expect(time.timers()).toBe(0);
  });

  it("a probe the upstream does not answer: start waits no longer than PROBE_WAIT_MS, and close() aborts it, leaving no timer", async () => {
    const time = fakeClock();
    let aborted = 0;
    const { notify, until } = conditions();
    const hanging = new ScriptedSource(
      [
        (signal) => {
          notify();
          return new Promise<PollResult>((_resolve, reject) =>
            signal.addEventListener("abort", () => {
              aborted++;
              reject(signal.reason as Error);
            }),
          );
        },
      ],
      () => time.fake.now,
      "hanging",
    );
    const fleet = new Fleet({ clock: time.clock });
    const logs = recordingLogger(() => time.fake.now);
    let started = false;
    const gatewayStarted = Gateway.start({ source: hanging, fleet, clock: time.clock, logger: logs.logger, defaultMetrics: false, limits: { heartbeatIntervalMs: 0 } }).then((g) => {
      started = true;
      return g;
    });
    await until(() => hanging.calls.length === 1);
    await time.tick(PROBE_WAIT_MS - 1);
    expect(started).toBe(false);
    await time.tick(1);
    const gateway = await gatewayStarted;
    expect(hanging.calls).toEqual([time.fake.now - PROBE_WAIT_MS]);
    expect(fleet.stats.inFlight).toBe(1);
    expect(logs.lines.map((l) => l.message)).toContain("gateway listening");

    await gateway.close();
    expect(aborted).toBe(1);
    // Aborted by us: neither a failure nor logged as one, and its turn of the budget is given back.
    expect(logs.warns()).toEqual([]);
    expect(fleet.stats.inFlight).toBe(0);
    await fleet.close();
    expect(time.timers()).toBe(0);
  });
});

describe("/healthz in shared mode", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("degraded with 'redis: disconnected' while Redis is gone, ok once it is back", async () => {
    const simulator = await Simulator.start({ seed: 15, timeScale: 50, appId: APP });
    cleanups.push(() => simulator.close());
    const gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, defaultMetrics: false, redis: { url: redis.url, leaseTtlMs: 1_000, instanceId: "health-a" } });
    cleanups.push(() => gateway.close());
    expect((await healthz(gateway)).body).toMatchObject({ status: "ok", reasons: [], redis: "up", instanceId: "health-a" } as Partial<Health>);

    const lost = nextRedisState(gateway, "lost");
    await redis.kill();
    await lost;
    const degraded = await healthz(gateway);
    expect(degraded.code).toBe(200);
    expect(degraded.body).toMatchObject({ status: "degraded", reasons: ["redis: disconnected"], redis: "down" });

    const back = nextRedisState(gateway, "back");
    await redis.restart();
    await back;
    expect((await healthz(gateway)).body).toMatchObject({ status: "ok", reasons: [], redis: "up" });
  });
});

function nextRedisState(gateway: Gateway, state: GatewayRedisEvent["state"]): Promise<void> {
  return new Promise((resolve) => {
    const listener = (event: GatewayRedisEvent): void => {
      if (event.state !== state) return;
      gateway.off("redis", listener);
      resolve();
    };
    gateway.on("redis", listener);
  });
}
