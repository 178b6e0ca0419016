/**
 * The shared mode's pure parts, table-driven: its options (and that a bad URL never echoes its
 * password), the names it uses in Redis, the lease timing, the envelopes on a room's channel, what a
 * claim may find stored, and the observation fingerprint the claims compare.
 */
import { describe, expect, it } from "vitest";
import { type Observation, observationKey, sameObservation } from "../../../src/core/observation.js";
import { ConfigError } from "../../../src/core/errors.js";
import { parseStored } from "../../../src/gateway/redis/directory.js";
import {
  claimDelayMs,
  DEFAULT_KEY_PREFIX,
  DEFAULT_LEASE_TTL_MS,
  reconnectDelayMs,
  redisUrlSecrets,
  RedisNames,
  resolveRedisOptions,
} from "../../../src/gateway/redis/options.js";
import { redactSecrets } from "../../../src/core/redact.js";
import { ENDED_FINGERPRINT, envelope, EnvelopeKind, openEnvelope } from "../../../src/gateway/redis/scripts.js";

const PASSWORD = "pa55-w0rd-secret";

describe("resolveRedisOptions", () => {
  it.each([
    ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379", []],
    ["redis://localhost", "redis://localhost", []],
    [`redis://:${PASSWORD}@10.0.0.5:6380/2`, "redis://10.0.0.5:6380/2", [PASSWORD]],
    [`rediss://user:${PASSWORD}@cache.example:6380`, "rediss://cache.example:6380", [PASSWORD]],
    ["redis://:p%40ss%3Aword@h:1", "redis://h:1", ["p%40ss%3Aword", "p@ss:word"]],
    ["redis://:100%25%zz@h:1", "redis://h:1", ["100%25%zz"]],
  ])("%s: safe URL %s, secrets %j", (url, safeUrl, secrets) => {
    const resolved = resolveRedisOptions(url);
    expect(resolved.safeUrl).toBe(safeUrl);
    expect(resolved.secrets).toEqual(secrets);
    expect(redisUrlSecrets(url)).toEqual(secrets);
    expect(redactSecrets(`AUTH failed for ${url} (${secrets.join(", ")})`, secrets)).not.toMatch(/pa55|p@ss|p%40ss|100%25/);
    expect(resolved.leaseTtlMs).toBe(DEFAULT_LEASE_TTL_MS);
    expect(resolved.keyPrefix).toBe(DEFAULT_KEY_PREFIX);
    expect(resolved.instanceId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it.each([
    [`not a url :${PASSWORD}`, /redis:\/\/ or rediss:\/\/ URL/],
    [`http://:${PASSWORD}@host:6379`, /must be redis: or rediss:, not http:/],
    [`redis://:${PASSWORD}@`, /redis:\/\/ or rediss:\/\/ URL|needs a host/],
  ])("refuses %s without echoing its password", (url, message) => {
    let caught: unknown;
    try {
      resolveRedisOptions(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain(PASSWORD);
  });

  it.each([
    [{ leaseTtlMs: 299 }, /leaseTtlMs must be at least 300/],
    [{ leaseTtlMs: Number.POSITIVE_INFINITY }, /leaseTtlMs/],
    [{ leaseTtlMs: 0 }, /leaseTtlMs/],
    [{ keyPrefix: "has space" }, /keyPrefix/],
    [{ instanceId: "" }, /instanceId/],
    [{ instanceId: "a/b" }, /instanceId/],
    [{ instanceId: "x".repeat(65) }, /instanceId/],
    [{ connectTimeoutMs: -1 }, /connectTimeoutMs/],
    [{ maxReconnectDelayMs: 0 }, /maxReconnectDelayMs/],
  ])("refuses %o", (options, message) => {
    expect(() => resolveRedisOptions({ url: "redis://127.0.0.1:6379", ...options })).toThrow(message);
  });

  it("keeps what it is given", () => {
    expect(
      resolveRedisOptions({ url: "redis://h:1", leaseTtlMs: 300, keyPrefix: "rw:", instanceId: "gw-1", connectTimeoutMs: 50, maxReconnectDelayMs: 70 }),
    ).toMatchObject({ leaseTtlMs: 300, keyPrefix: "rw:", instanceId: "gw-1", connectTimeoutMs: 50, maxReconnectDelayMs: 70 });
  });
});

describe("RedisNames", () => {
  const names = new RedisNames("rw:", "gateway-upstream:hathora:v2:http://127.0.0.1:1:app");

  it("keeps a room's lease and state in one hash slot, and its channel apart", () => {
    expect(names.lease("room-1")).toMatch(/^rw:[0-9a-f]{12}:\{room-1\}:lease$/);
    expect(names.state("room-1")).toMatch(/^rw:[0-9a-f]{12}:\{room-1\}:state$/);
    expect(names.channel("room-1")).toMatch(/^rw:[0-9a-f]{12}:room:room-1$/);
  });

  it.each([
    ["its own channel", (n: RedisNames) => n.channel("abc"), "abc"],
    ["another upstream's channel", () => new RedisNames("rw:", "other").channel("abc"), undefined],
    ["another prefix's channel", () => new RedisNames("x:", "gateway-upstream:hathora:v2:http://127.0.0.1:1:app").channel("abc"), undefined],
    ["anything else", () => "news", undefined],
  ])("roomOf(%s)", (_name, channel, roomId) => {
    expect(names.roomOf(channel(names))).toBe(roomId);
  });
});

describe("lease timing", () => {
  it.each([
    [10_000, 0, 3_000],
    [10_000, 0.5, 10_000 / 3],
    [10_000, 1, 10_000 / 3 * 1.1],
    [300, 0, 90],
  ])("a lease of %i ms is claimed again after %f jitter: %f ms", (leaseTtlMs, random, delayMs) => {
    expect(claimDelayMs(leaseTtlMs, () => random)).toBeCloseTo(delayMs, 6);
    // Renewed at least twice per TTL, so one lost claim never loses the lease.
    expect(2 * claimDelayMs(leaseTtlMs, () => random)).toBeLessThan(leaseTtlMs);
  });

  it.each([
    [1, 2_000, 1, 100],
    [1, 2_000, 0, 50],
    [2, 2_000, 1, 200],
    [5, 2_000, 1, 1_600],
    [6, 2_000, 1, 2_000],
    [1_000, 2_000, 1, 2_000],
    [1_000, 2_000, 0, 1_000],
    [0, 2_000, 1, 100],
  ])("reconnection attempt %i (cap %i ms, jitter %f) waits %f ms", (attempt, maxDelayMs, random, delayMs) => {
    expect(reconnectDelayMs(attempt, maxDelayMs, () => random)).toBe(delayMs);
  });
});

describe("envelopes on a room's channel", () => {
  it.each([
    [EnvelopeKind.MESSAGE, "gw-1", '{"type":"update"}'],
    [EnvelopeKind.RELEASED, "gw-2", ""],
    [EnvelopeKind.HINT, "1234-abcd", ""],
    [EnvelopeKind.MESSAGE, "gw-1", "line one\nline two"],
  ])("%s from %s round-trips", (kind, from, payload) => {
    expect(openEnvelope(envelope(kind, from, payload))).toEqual({ kind, from, payload });
  });

  it.each([[""], ["m"], ["m\ngw-1"], ["x\ngw-1\n{}"], ["M\ngw-1\n{}"], ['{"type":"update"}']])("%j is not one", (text) => {
    expect(openEnvelope(text)).toBeUndefined();
  });
});

describe("parseStored", () => {
  const snapshot = { type: "snapshot", roomId: "r1", seq: 3, result: { observation: { kind: "starting" }, warnings: [] }, at: 5 };
  const ended = { type: "ended", roomId: "r1", seq: 4, reason: "destroyed", at: 6 };
  it.each([
    ["a snapshot of the room", JSON.stringify(snapshot), snapshot],
    ["a snapshot before the first look", JSON.stringify({ ...snapshot, seq: 0, result: null, at: null }), { ...snapshot, seq: 0, result: null, at: null }],
    ["a tombstone", JSON.stringify(ended), ended],
    ["another room's snapshot", JSON.stringify({ ...snapshot, roomId: "r2" }), undefined],
    ["an update", JSON.stringify({ ...snapshot, type: "update" }), undefined],
    ["not JSON", "{", undefined],
  ])("%s", (_name, text, expected) => {
    expect(parseStored(text, "r1")).toEqual(expected);
  });
});

describe("observationKey", () => {
  const port = { host: "1.2.3.4", port: 7777, transportType: "tcp", name: "default" };
  const observations: Observation[] = [
    { kind: "starting" },
    { kind: "not_found" },
    { kind: "ended", reason: "destroyed" },
    { kind: "ended", reason: "suspended" },
    { kind: "unrecognized", status: "paused" },
    { kind: "unrecognized", status: "frozen" },
    { kind: "active", connection: { exposedPort: port, additionalExposedPorts: [] } },
    { kind: "active", connection: { exposedPort: { ...port, port: 7778 }, additionalExposedPorts: [] } },
    { kind: "active", connection: { exposedPort: { ...port, host: "1.2.3.5" }, additionalExposedPorts: [] } },
    { kind: "active", connection: { exposedPort: { ...port, transportType: "udp" }, additionalExposedPorts: [] } },
    { kind: "active", connection: { exposedPort: { ...port, name: "game" }, additionalExposedPorts: [] } },
    { kind: "active", connection: { exposedPort: port, additionalExposedPorts: [{ ...port, port: 9000, name: "voice" }] } },
    { kind: "active", connection: { exposedPort: port, additionalExposedPorts: [{ ...port, port: 9000, name: "voice" }, port] } },
  ];

  it("gives two observations the same key exactly when they say the same", () => {
    for (const a of observations) {
      for (const b of observations) {
        expect(observationKey(a) === observationKey(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(sameObservation(a, b));
      }
    }
  });

  it("ignores the order of a port's fields (a parsed copy has the same key)", () => {
    const reordered = { name: "default", transportType: "tcp", port: 7777, host: "1.2.3.4" };
    expect(observationKey({ kind: "active", connection: { exposedPort: reordered, additionalExposedPorts: [] } })).toBe(observationKey(observations[6]!));
  });

  it("is never the tombstone's fingerprint", () => {
    for (const o of observations) expect(observationKey(o)).not.toBe(ENDED_FINGERPRINT);
  });
});
