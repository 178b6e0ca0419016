/**
 * The watcher, waitForActive and the HTTP source against the real simulator on loopback.
 * Poll and retry delays are shortened and the simulator runs 100x faster, so real time stays short.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HttpError, RoomTerminatedError } from "../../src/core/errors.js";
import { Simulator } from "../../src/simulator/simulator.js";
import type { ErrorEvent } from "../../src/watch/events.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";

const APP = "app-test";
const fast = { pollIntervalMs: 20, maxPollIntervalMs: 50, activePollIntervalMs: 30, initialRetryDelayMs: 5, maxRetryDelayMs: 40, maxRetryAfterMs: 50 };

let sim: Simulator;
let fleet: Fleet;

beforeEach(async () => {
  sim = await Simulator.start({ seed: 11, timeScale: 100 });
  fleet = new Fleet();
});

afterEach(async () => {
  await fleet.close();
  expect(fleet.size).toBe(0);
  expect(fleet.timers.size).toBe(0);
  await sim.close();
});

const opts = (roomId: string) => ({ roomId, appId: APP, baseUrl: sim.url, fleet, ...fast });

describe("against the simulator", () => {
  it("waitForActive resolves the port the simulator gave the room", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const connection = await waitForActive(opts(roomId));
    const truth = sim.truth(roomId);
    expect(truth?.status).toBe("active");
    expect(connection.exposedPort).toEqual(truth?.exposedPort);
    expect(connection.additionalExposedPorts).toEqual([]);
  });

  it("the v1 endpoint gives the same answer, as a port named default", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const connection = await waitForActive({ ...opts(roomId), apiVersion: "v1" });
    expect(connection.exposedPort).toEqual(sim.truth(roomId)?.exposedPort);
    expect(sim.requestCount(roomId, "connectionInfoV1")).toBeGreaterThan(0);
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(0);
  });

  it("200 concurrent waiters of one room share one poll", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const results = await Promise.all(Array.from({ length: 200 }, () => waitForActive(opts(roomId))));
    expect(new Set(results.map((r) => r.exposedPort.port)).size).toBe(1);
    // One loop looks a handful of times during a 50 ms (simulated 5 s) start; 200 loops would need 200 looks for the first round alone.
    expect(sim.requestCount(roomId, "connectionInfo")).toBeLessThan(20);
  });

  it("a crashed process: the watcher reports the move with the new port", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const watcher = new RoomWatcher(opts(roomId));
    const events: string[] = [];
    const moved = new Promise<void>((resolve) => {
      watcher.on("starting", (e) => events.push(e.rescheduled ? "starting(rescheduled)" : "starting"));
      watcher.on("active", (e) => {
        events.push(e.moved ? "active(moved)" : "active");
        if (!e.moved) {
          const processId = sim.processOf(roomId);
          if (processId !== undefined) sim.crashProcess(processId);
        } else resolve();
      });
    });
    watcher.start();
    await moved;
    const truth = sim.truth(roomId);
    expect(watcher.connection?.exposedPort).toEqual(truth?.exposedPort);
    expect(events[0]).toBe("starting");
    expect(events[1]).toBe("active");
    expect(events.at(-1)).toBe("active(moved)");
    await watcher.stop();
  });

  it("destroyed after active: terminated(destroyed) with the last connection", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const watcher = new RoomWatcher(opts(roomId));
    const ended = new Promise<{ reason: string; port: number | undefined }>((resolve) => {
      watcher.once("active", () => sim.destroyRoom(APP, roomId));
      watcher.once("terminated", (e) => resolve({ reason: e.reason, port: e.lastConnection?.exposedPort.port }));
    });
    watcher.start();
    const result = await ended;
    expect(result.reason).toBe("destroyed");
    expect(result.port).toBe(sim.truth(roomId)?.history.find((h) => h.status === "active")?.exposedPort?.port);
  });

  it("a room destroyed mid-start rejects waitForActive with reason destroyed", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "destroyMidStart" });
    await expect(waitForActive(opts(roomId))).rejects.toMatchObject({ code: "RW_ROOM_TERMINATED", reason: "destroyed" });
  });

  it("a room that never existed ends as not_found after the grace", async () => {
    await expect(waitForActive({ ...opts("nosuchroom"), notFoundGraceMs: 50 })).rejects.toMatchObject({ reason: "not_found" });
  });

  it.each([401, 402, 403, 422])("HTTP %i fails fast with the cause attached", async (status) => {
    sim.setFaults({ errorRates: { [status]: 1 } });
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const error: unknown = await waitForActive(opts(roomId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomTerminatedError);
    expect(error).toMatchObject({ reason: "failed" });
    expect((error as RoomTerminatedError).cause).toBeInstanceOf(HttpError);
    expect((error as RoomTerminatedError).cause).toMatchObject({ status });
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(1);
  });

  it("under 500s, 429s with Retry-After, malformed bodies and dropped connections it still gets the right port, reporting each failure", async () => {
    sim.setFaults({ errorRates: { 500: 0.15, 503: 0.1 }, rateLimit: { probability: 0.1, retryAfterSeconds: 0 }, malformedRate: 0.1, dropRate: 0.1 });
    const countsBefore = sim.faultCounts();
    const rooms = Array.from({ length: 20 }, () => sim.createRoom(APP, { scenario: "cold" }).roomId);
    const errors: ErrorEvent[] = [];
    const results = await Promise.all(
      rooms.map((roomId) => {
        const watcher = new RoomWatcher({ ...opts(roomId), maxConsecutiveInvalidPayloads: 10 });
        watcher.on("error", (e) => errors.push(e));
        return new Promise<number | undefined>((resolve) => {
          watcher.once("active", (e) => {
            resolve(e.exposedPort.port);
            void watcher.stop();
          });
          watcher.once("terminated", () => resolve(undefined));
          watcher.start();
        });
      }),
    );
    expect(results).toEqual(rooms.map((roomId) => sim.truth(roomId)?.exposedPort?.port));
    // Every kind of fault the simulator injected during this test was reported under its code, and nothing else.
    const codeOf: Record<string, string> = { http500: "RW_HTTP", http503: "RW_HTTP", rateLimit: "RW_RATE_LIMITED", malformed: "RW_INVALID_PAYLOAD", drop: "RW_NETWORK" };
    const injected = Object.entries(sim.faultCounts()).filter(([kind, count]) => kind in codeOf && count > (countsBefore[kind] ?? 0));
    expect(injected.length).toBeGreaterThan(0);
    expect(new Set(errors.map((e) => e.error.code))).toEqual(new Set(injected.map(([kind]) => codeOf[kind])));
    expect(errors.every((e) => e.attempt >= 1 && e.nextDelayMs >= 0)).toBe(true);
  });

  it("aborting a wait leaves nothing running and sends no more requests", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const controller = new AbortController();
    const watcher = new RoomWatcher({ ...opts(roomId), signal: controller.signal });
    const firstLook = new Promise<void>((resolve) => watcher.once("starting", () => resolve()));
    watcher.start();
    await firstLook;
    controller.abort(new Error("leaving"));
    await watcher.stop();
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "aborted" });
    expect(fleet.size).toBe(0);
    expect(fleet.timers.size).toBe(0);
    const count = sim.requestCount(roomId);
    await waitForActive({ ...opts(sim.createRoom(APP, { scenario: "cold" }).roomId) });
    expect(sim.requestCount(roomId)).toBe(count);
  });
});
