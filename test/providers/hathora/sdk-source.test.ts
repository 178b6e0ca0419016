/**
 * HathoraSdkSource through the real official SDK (@hathora/cloud-sdk-typescript) against the real
 * simulator on loopback: every answer the SDK can get, mapped onto room-watcher's errors.
 */
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigError,
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
  RoomTerminatedError,
} from "../../../src/core/errors.js";
import { Simulator } from "../../../src/simulator/simulator.js";
import { HathoraSdkSource } from "../../../src/sdk.js";
import { Fleet } from "../../../src/watch/fleet.js";
import { RoomWatcher } from "../../../src/watch/room-watcher.js";
import { waitForActive } from "../../../src/watch/wait-for-active.js";
import { json, scriptedServer } from "../../helpers/http-server.js";
import { failure } from "../../helpers/waiting.js";

const APP = "app-sdk";
const TOKEN = "tok_SDK_secret_5b7c19e2";
const fast = { pollIntervalMs: 20, maxPollIntervalMs: 50, activePollIntervalMs: 30, initialRetryDelayMs: 5, maxRetryDelayMs: 40, maxRetryAfterMs: 50 };

let sim: Simulator;
let fleet: Fleet;

beforeEach(async () => {
  sim = await Simulator.start({ seed: 5, timeScale: 100, additionalPorts: 1 });
  fleet = new Fleet();
});

afterEach(async () => {
  await fleet.close();
  expect(fleet.size).toBe(0);
  expect(fleet.timers.size).toBe(0);
  await sim.close();
});

const client = (options: ConstructorParameters<typeof HathoraCloud>[0] = {}) => new HathoraCloud({ serverURL: sim.url, appId: APP, ...options });
const poll = (source: HathoraSdkSource, roomId: string, signal = new AbortController().signal) => source.poll(roomId, { signal });

describe("HathoraSdkSource", () => {
  it("a starting room, then the simulator's port once it is active", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const source = new HathoraSdkSource({ client: client() });
    expect((await poll(source, roomId)).observation).toEqual({ kind: "starting" });

    const warm = sim.createRoom(APP, { scenario: "cold" }).roomId;
    const connection = await waitForActive({ roomId: warm, source, fleet, ...fast });
    const truth = sim.truth(warm);
    expect(truth?.status).toBe("active");
    expect(connection.exposedPort).toEqual(truth?.exposedPort);
    expect(connection.additionalExposedPorts).toHaveLength(1);
    expect(await poll(source, warm)).toEqual({
      observation: { kind: "active", connection: { exposedPort: truth?.exposedPort, additionalExposedPorts: connection.additionalExposedPorts } },
      warnings: [],
    });
    expect(sim.requestCount(warm, "connectionInfo")).toBeGreaterThan(0);
  });

  it("takes the app id from the client, or from its own option over the client's", async () => {
    const { roomId } = sim.createRoom("app-other", { scenario: "never" });
    const source = new HathoraSdkSource({ client: client(), appId: "app-other" });
    expect((await poll(source, roomId)).observation).toEqual({ kind: "starting" });
    expect(new HathoraSdkSource({ client: client() }).appId).toBe(APP);
    expect(() => new HathoraSdkSource({ client: new HathoraCloud({ serverURL: sim.url }) })).toThrow(ConfigError);
    expect(() => new HathoraSdkSource({ client: client(), appId: "bad/app" })).toThrow(ConfigError);
    expect(() => new HathoraSdkSource({ client: {} as HathoraCloud })).toThrow(ConfigError);
    await expect(poll(source, "../info/x")).rejects.toBeInstanceOf(ConfigError);
  });

  it("refuses a client whose token no header can carry, at once, naming it and not echoing it", () => {
    for (const token of ["s3cret\n", "s3cret\u20ac", " s3cret"]) {
      expect(() => new HathoraSdkSource({ client: client({ hathoraDevToken: token }) }), JSON.stringify(token)).toThrow(/^the client's hathoraDevToken (contains|begins)/);
      expect(() => new HathoraSdkSource({ client: client({ hathoraDevToken: token }) })).not.toThrow(/s3cret/);
    }
    // One that is fine, or one given as a function (known per request only), is taken.
    expect(new HathoraSdkSource({ client: client({ hathoraDevToken: "s3cret with space" }) }).appId).toBe(APP);
    expect(new HathoraSdkSource({ client: client({ hathoraDevToken: () => Promise.resolve("s3cret\n") }) }).appId).toBe(APP);
  });

  it("404 is not_found, and the watcher ends a destroyed room as destroyed", async () => {
    const source = new HathoraSdkSource({ client: client() });
    expect((await poll(source, "no-such-room")).observation).toEqual({ kind: "not_found" });

    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const watcher = new RoomWatcher({ roomId, source, fleet, ...fast });
    const ended = new Promise((resolve) => watcher.once("terminated", (e) => resolve(e.reason)));
    watcher.once("starting", () => sim.destroyRoom(APP, roomId));
    watcher.start();
    expect(await ended).toBe("destroyed");
  });

  it("a suspended room (legacy status) ends the wait as suspended", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.suspendRoom(roomId);
    const error = await failure(waitForActive({ roomId, source: new HathoraSdkSource({ client: client() }), fleet, ...fast }));
    expect(error).toBeInstanceOf(RoomTerminatedError);
    expect((error as RoomTerminatedError).reason).toBe("suspended");
  });

  it.each([400, 401, 402, 403, 422])("%i is a terminal HttpError with the API's message", async (status) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { [status]: 1 } });
    const error = await failure(poll(new HathoraSdkSource({ client: client() }), roomId));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: "RW_HTTP", status, retryable: false });
    expect((error as HttpError).apiMessage).toEqual(expect.any(String));
  });

  it.each([408, 500, 503])("%i is a retryable HttpError, tried once: the SDK's own retries stay off", async (status) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { [status]: 1 } });
    const sdk = client({ retryConfig: { strategy: "backoff", backoff: { initialInterval: 1, maxInterval: 2, exponent: 1, maxElapsedTime: 1000 }, retryConnectionErrors: true } });
    const error = await failure(poll(new HathoraSdkSource({ client: sdk }), roomId));
    expect(error).toMatchObject({ code: "RW_HTTP", status, retryable: true });
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(1);
  });

  it("429 carries Retry-After, as seconds or as an HTTP date", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const source = new HathoraSdkSource({ client: client() });
    sim.setRoomFaults(roomId, { rateLimit: { probability: 1, retryAfterSeconds: 3 } });
    const seconds = await failure(poll(source, roomId));
    expect(seconds).toBeInstanceOf(RateLimitedError);
    expect(seconds).toMatchObject({ code: "RW_RATE_LIMITED", retryAfterMs: 3000, retryable: true });

    sim.setRoomFaults(roomId, { rateLimit: { probability: 1, retryAfterSeconds: 30, retryAfterDate: true } });
    const date = (await failure(poll(source, roomId))) as RateLimitedError;
    expect(date).toBeInstanceOf(RateLimitedError);
    // An HTTP date has whole seconds: 30 s from now, give or take the second it was written in.
    expect(date.retryAfterMs).toBeGreaterThan(28_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(31_000);

    sim.setRoomFaults(roomId, { rateLimit: { probability: 1 } });
    expect(await failure(poll(source, roomId))).toMatchObject({ code: "RW_RATE_LIMITED", retryAfterMs: undefined });
  });

  it("a body that breaks the shape is an InvalidPayloadError, whichever way it breaks", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { malformedRate: 1 });
    const source = new HathoraSdkSource({ client: client() });
    // The simulator draws truncated JSON, wrong types or a missing field; a dozen looks see them all.
    for (let i = 0; i < 12; i++) {
      const error = await failure(poll(source, roomId));
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect(error).toMatchObject({ code: "RW_INVALID_PAYLOAD", retryable: true });
    }
    expect(sim.faultCounts().malformed).toBe(12);
  });

  it("a dropped connection is a NetworkError; a refused one too", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { dropRate: 1 });
    const dropped = await failure(poll(new HathoraSdkSource({ client: client() }), roomId));
    expect(dropped).toBeInstanceOf(NetworkError);
    expect(dropped).toMatchObject({ code: "RW_NETWORK", retryable: true });

    const closed = await Simulator.start({ seed: 1 });
    const url = closed.url;
    await closed.close();
    const refused = await failure(poll(new HathoraSdkSource({ client: new HathoraCloud({ serverURL: url, appId: APP }) }), roomId));
    expect(refused).toBeInstanceOf(NetworkError);
  });

  it("a slow answer is a RequestTimeoutError after requestTimeoutMs", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { latencyMs: 10_000 });
    const error = await failure(poll(new HathoraSdkSource({ client: client(), requestTimeoutMs: 50 }), roomId));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ code: "RW_REQUEST_TIMEOUT", retryable: true });
  });

  it("an abort rejects with signal.reason, before or during the request", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const source = new HathoraSdkSource({ client: client() });
    const reason = new Error("caller left");
    await expect(poll(source, roomId, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(sim.requestCount(roomId)).toBe(0);

    sim.setRoomFaults(roomId, { latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = poll(source, roomId, controller.signal);
    // Abort once the request has reached the simulator.
    while (sim.requestCount(roomId) === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("never puts the client's token in an error, even when the upstream echoes it", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const echo = await scriptedServer();
    echo.handle((_req, res) => json(res, 403, { message: `bad token ${TOKEN}` }));
    try {
      const error = await failure(poll(new HathoraSdkSource({ client: new HathoraCloud({ serverURL: echo.url, appId: APP, hathoraDevToken: TOKEN }) }), roomId));
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).message).not.toContain(TOKEN);
      expect((error as HttpError).apiMessage).toBe("bad token [redacted]");
    } finally {
      await echo.close();
    }
  });

  it("one poll per room through one client, whatever the number of watchers", async () => {
    const sdk = client();
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => waitForActive({ roomId, source: new HathoraSdkSource({ client: sdk }), fleet, ...fast })),
    );
    expect(new Set(results.map((r) => r.exposedPort.port)).size).toBe(1);
    expect(sim.requestCount(roomId, "connectionInfo")).toBeLessThan(20);
    expect(new HathoraSdkSource({ client: sdk }).key).not.toBe(new HathoraSdkSource({ client: client() }).key);
  });
});
