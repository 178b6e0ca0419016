/**
 * The gateway's lifecycle: a synchronous constructor that builds every part (and refuses bad options
 * there), listen() that does the I/O, and every public method guarded on the phase, as ws guards its
 * server: listen() once, never after close(); close() at any point, idempotent; the address known
 * once the port is bound.
 */
import { createServer } from "node:net";
import { getActiveResourcesInfo } from "node:process";
import { describe, expect, it } from "vitest";
import { ConfigError, InvalidStateError } from "../../src/core/errors.js";
import type { PollingSource } from "../../src/core/source.js";
import type { GatewayLogger, LogFields } from "../../src/gateway/logging.js";
import { Gateway, type GatewayOptions } from "../../src/gateway/server.js";
import { resourcesLeftAfter } from "../helpers/resources.js";

/** A source the tests never let the gateway ask (no probe, no subscriber). */
const silent: PollingSource = { kind: "poll", key: "lifecycle", poll: () => Promise.reject(new Error("not asked in these tests")) };

function recordingLogger(): { logger: GatewayLogger; lines: Array<{ level: string; message: string; fields: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const at = (level: string) => (fields: LogFields, message: string) => void lines.push({ level, message, fields });
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

const BASE: GatewayOptions = { source: silent, probeUpstream: false, defaultMetrics: false };

describe("new Gateway(options)", () => {
  it.each<[string, GatewayOptions, RegExp]>([
    ["no upstream and no source", { defaultMetrics: false }, /needs/],
    ["a client token with a line feed", { ...BASE, clientToken: "s3cret\n" }, /^clientToken .*line feed/],
    ["a rooms API token with a line feed", { baseUrl: "http://127.0.0.1:59", appId: "app", token: "s3cret\n", defaultMetrics: false }, /^token .*line feed/],
    // 0.1's names: `token` was the clients' token, so code written for them must not run with it sent upstream.
    ["0.1's upstream", { upstream: "http://127.0.0.1:59", appId: "app", token: "s3cret", defaultMetrics: false } as GatewayOptions, /^the gateway option upstream is now baseUrl \(and the clients' token, once token, is clientToken\)$/],
    ["0.1's upstreamToken", { baseUrl: "http://127.0.0.1:59", appId: "app", upstreamToken: "s3cret", defaultMetrics: false } as GatewayOptions, /^the gateway option upstreamToken is now token/],
    ["a token beside a source (0.1's clients' token)", { ...BASE, token: "s3cret" }, /^token is the rooms API's token, unused with a source; the clients' token is clientToken$/],
    ["a hint token with a NUL", { ...BASE, hintToken: "h\u0000s3cret" }, /^hintToken .*NUL/],
    ["a negative shutdown grace", { ...BASE, shutdownGraceMs: -1 }, /^shutdownGraceMs/],
    ["a zero connection limit", { ...BASE, limits: { maxConnections: 0 } }, /^maxConnections/],
    ["an origin with a path", { ...BASE, allowedOrigins: ["https://play.example.com/x"] }, /allowed origin/],
    ["a Redis URL of another scheme", { ...BASE, redis: "http://127.0.0.1:6379" }, /redis URL must be redis: or rediss:/],
    ["a lease TTL too short", { ...BASE, redis: { url: "redis://127.0.0.1:6379", leaseTtlMs: 10 } }, /leaseTtlMs must be at least 300/],
  ])("throws ConfigError at once on %s, before anything listens, logs or connects", (_name, options, message) => {
    const before = getActiveResourcesInfo();
    const logs = recordingLogger();
    let thrown: unknown;
    try {
      new Gateway({ ...options, logger: logs.logger });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain("s3cret");
    expect(logs.lines).toEqual([]);
    expect(getActiveResourcesInfo()).toEqual(before);
  });

  it("builds every part without listening or connecting: created, no address yet, health ok", () => {
    const before = getActiveResourcesInfo();
    // Shared mode too: the Redis options are checked, Redis is not reached (nothing listens on port 1).
    const gateway = new Gateway({ ...BASE, redis: { url: "redis://127.0.0.1:1", instanceId: "built" } });
    expect(gateway.phase).toBe("created");
    expect(gateway.instanceId).toBe("built");
    expect(() => gateway.url).toThrow(InvalidStateError);
    expect(() => gateway.port).toThrow(/port is known once listen\(\) has bound the port; the gateway is created/);
    expect(gateway.stats).toEqual({ connections: 0, subscriptions: 0, rooms: 0, ownedRooms: 0, upstreamRequests: 0 });
    expect(getActiveResourcesInfo()).toEqual(before);
  });
});

describe("listen() and close()", () => {
  it("created -> starting -> listening -> draining -> closed; the address stays readable once closed", async () => {
    const before = getActiveResourcesInfo();
    const gateway = new Gateway(BASE);
    const listening = gateway.listen();
    expect(gateway.phase).toBe("starting");
    await listening;
    expect(gateway.phase).toBe("listening");
    expect(gateway.url).toBe(`ws://127.0.0.1:${gateway.port}`);
    expect(gateway.httpUrl).toBe(`http://127.0.0.1:${gateway.port}`);
    const health = await fetch(`${gateway.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const closing = gateway.close();
    expect(gateway.phase).toBe("draining");
    expect(gateway.health.status).toBe("draining");
    expect(gateway.close()).toBe(closing);
    await closing;
    expect(gateway.phase).toBe("closed");
    expect(gateway.port).toBeGreaterThan(0);
    await gateway.close();
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("listen() twice rejects with InvalidStateError, while starting and once listening, and leaves the first listen alone", async () => {
    const gateway = new Gateway(BASE);
    const first = gateway.listen();
    await expect(gateway.listen()).rejects.toThrow(new InvalidStateError("listen() was called already: the gateway is starting"));
    await first;
    const again = await gateway.listen().catch((e: unknown) => e);
    expect(again).toBeInstanceOf(InvalidStateError);
    expect(again).toMatchObject({ code: "RW_INVALID_STATE", retryable: false, message: "listen() was called already: the gateway is listening" });
    expect(gateway.phase).toBe("listening");
    await gateway.close();
  });

  it("close() before listen() releases what was built; listen() after close() rejects with InvalidStateError", async () => {
    const before = getActiveResourcesInfo();
    const gateway = new Gateway(BASE);
    await gateway.close();
    expect(gateway.phase).toBe("closed");
    await expect(gateway.listen()).rejects.toThrow(new InvalidStateError("listen() after close(): the gateway is closed"));
    expect(() => gateway.url).toThrow(InvalidStateError);
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("listen() after a close() still draining rejects too", async () => {
    const gateway = await Gateway.start(BASE);
    const closing = gateway.close();
    await expect(gateway.listen()).rejects.toThrow(new InvalidStateError("listen() after close(): the gateway is draining"));
    await closing;
  });

  it("close() while listen() is under way waits for it, then closes", async () => {
    const before = getActiveResourcesInfo();
    const gateway = new Gateway(BASE);
    const listening = gateway.listen();
    const closing = gateway.close();
    await listening;
    await closing;
    expect(gateway.phase).toBe("closed");
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("a listen() that fails (the port taken) rejects with the cause, ends closed, and leaves nothing behind", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const before = getActiveResourcesInfo();
    const gateway = new Gateway({ ...BASE, port });
    await expect(gateway.listen()).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(gateway.phase).toBe("closed");
    await gateway.close();
    await expect(gateway.listen()).rejects.toThrow(InvalidStateError);
    expect(await resourcesLeftAfter(before)).toEqual([]);
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  });

  it("Gateway.start is new + listen()", async () => {
    const gateway = await Gateway.start(BASE);
    expect(gateway.phase).toBe("listening");
    await gateway.close();
  });
});
