import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { createRandom } from "../../src/simulator/random.js";
import {
  BIND_DEADLINE_MS,
  COLD_START_MAX_MS,
  COLD_START_MIN_MS,
  IDLE_PROCESS_STOP_MS,
  PORT_MAX,
  PORT_MIN,
  World,
  type TruthStatus,
  type WorldOptions,
} from "../../src/simulator/world.js";
import { ConnectionInfoV1Schema, ConnectionInfoV2Schema, RoomSchema, RoomWithoutAllocationsSchema } from "../../src/providers/hathora/schemas.js";

const APP = "app-1";

function activeAt(world: World, roomId: string, nowMs: number): number | undefined {
  return world.truth(nowMs, roomId)?.history.find((entry) => entry.status === "active")?.at;
}

function statuses(world: World, roomId: string, nowMs: number): TruthStatus[] {
  return world.truth(nowMs, roomId)?.history.map((entry) => entry.status) ?? [];
}

/** A world advanced to `nowMs` with one running process (a cold room that became active), and that room. */
function worldWithRunningProcess(options: WorldOptions = {}): { world: World; roomId: string; processId: string; nowMs: number } {
  const world = new World(options);
  const { roomId, processId } = world.createRoom(0, { appId: APP, scenario: "cold" });
  expect(activeAt(world, roomId, COLD_START_MAX_MS)).toBeDefined();
  return { world, roomId, processId, nowMs: COLD_START_MAX_MS };
}

describe("random", () => {
  it("is deterministic for a seed and differs across seeds and streams", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const d = createRandom(42, "other");
    const seqA = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.next())).not.toEqual(seqA);
    expect(Array.from({ length: 8 }, () => d.next())).not.toEqual(seqA);
  });

  it("draws ints in [min, max), picks, chances and a log-normal around its median", () => {
    const random = createRandom(7);
    const ints = Array.from({ length: 2000 }, () => random.int(3, 6));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(random.pick(["only"])).toBe("only");
    expect(random.chance(0)).toBe(false);
    expect(random.chance(1)).toBe(true);
    const draws = Array.from({ length: 4001 }, () => random.lognormal(5000, 0.35)).sort((x, y) => x - y);
    expect(draws[2000]).toBeGreaterThan(4700);
    expect(draws[2000]).toBeLessThan(5300);
    expect(() => random.int(5, 5)).toThrow(RangeError);
    expect(() => random.pick([])).toThrow(RangeError);
  });
});

describe("World lifecycle", () => {
  it("starts a cold room after a clamped log-normal delay and exposes its port", () => {
    const world = new World({ seed: 3 });
    const { roomId, processId, scenario } = world.createRoom(0, { appId: APP, scenario: "cold" });
    expect(scenario).toBe("cold");
    expect(roomId).toMatch(/^[a-z0-9]{13}$/);
    expect(world.connectionInfo(COLD_START_MIN_MS - 1, APP, roomId)).toEqual({
      additionalExposedPorts: [],
      status: "starting",
      roomId,
    });
    const readyAtMs = activeAt(world, roomId, COLD_START_MAX_MS)!;
    expect(readyAtMs).toBeGreaterThanOrEqual(COLD_START_MIN_MS);
    expect(readyAtMs).toBeLessThanOrEqual(COLD_START_MAX_MS);
    const info = ConnectionInfoV2Schema.parse(world.connectionInfo(COLD_START_MAX_MS, APP, roomId));
    expect(info.status).toBe("active");
    expect(info.exposedPort).toMatchObject({ host: "127.0.0.1", transportType: "udp", name: "default" });
    expect(info.exposedPort!.port).toBeGreaterThanOrEqual(PORT_MIN);
    expect(info.exposedPort!.port).toBeLessThan(PORT_MAX);
    expect(world.processOf(COLD_START_MAX_MS, roomId)).toBe(processId);
    expect(world.truth(COLD_START_MAX_MS, roomId)).toMatchObject({ status: "active", exposedPort: info.exposedPort, processId });
  });

  it("has cold starts with a median near coldStartMedianMs", () => {
    const world = new World({ seed: 11, coldStartMedianMs: 5000 });
    const ids = Array.from({ length: 301 }, () => world.createRoom(0, { appId: APP, scenario: "cold" }).roomId);
    const delays = ids.map((id) => activeAt(world, id, COLD_START_MAX_MS)!).sort((a, b) => a - b);
    expect(delays[150]).toBeGreaterThan(4500);
    expect(delays[150]).toBeLessThan(5500);
    expect(delays[0]).toBeGreaterThanOrEqual(COLD_START_MIN_MS);
  });

  it("starts a warm room on a running process within warmStartMs, sharing its port", () => {
    const { world, roomId: first, processId, nowMs } = worldWithRunningProcess({ seed: 5, warmStartMs: [50, 400] });
    const createdAtMs = nowMs + 1000;
    const warm = world.createRoom(createdAtMs, { appId: APP, scenario: "warm" });
    expect(warm.processId).toBe(processId);
    expect(world.connectionInfo(createdAtMs + 49, APP, warm.roomId)?.status).toBe("starting");
    const warmAtMs = activeAt(world, warm.roomId, createdAtMs + 400)!;
    expect(warmAtMs - createdAtMs).toBeGreaterThanOrEqual(50);
    expect(warmAtMs - createdAtMs).toBeLessThanOrEqual(400);
    expect(world.truth(createdAtMs + 400, warm.roomId)?.exposedPort).toEqual(world.truth(createdAtMs + 400, first)?.exposedPort);
  });

  it("refuses a forced warm start without capacity, and respects roomsPerProcess", () => {
    const cold = new World();
    expect(() => cold.createRoom(0, { appId: APP, scenario: "warm" })).toThrow(ConfigError);
    const { world, nowMs } = worldWithRunningProcess({ roomsPerProcess: 2 });
    world.createRoom(nowMs, { appId: APP, scenario: "warm" });
    expect(() => world.createRoom(nowMs, { appId: APP, scenario: "warm" })).toThrow(ConfigError);
    // Another region has no running process.
    expect(() => world.createRoom(nowMs, { appId: APP, region: "London", scenario: "warm" })).toThrow(ConfigError);
  });

  it("draws scenarios from the seeded probabilities", () => {
    const never = new World({ neverReadyProbability: 1 });
    expect(never.createRoom(0, { appId: APP }).scenario).toBe("never");
    const { world, nowMs } = worldWithRunningProcess({ warmProbability: 1, neverReadyProbability: 0 });
    expect(world.createRoom(nowMs, { appId: APP }).scenario).toBe("warm");
    const coldOnly = new World({ warmProbability: 1, neverReadyProbability: 0 });
    expect(coldOnly.createRoom(0, { appId: APP }).scenario).toBe("cold");
  });

  it("destroys a never-ready room at the 100 s bind deadline", () => {
    const world = new World();
    const { roomId } = world.createRoom(10, { appId: APP, scenario: "never" });
    expect(world.connectionInfo(10 + BIND_DEADLINE_MS - 1, APP, roomId)?.status).toBe("starting");
    expect(world.connectionInfo(10 + BIND_DEADLINE_MS, APP, roomId)).toBeUndefined();
    expect(world.truth(10 + BIND_DEADLINE_MS, roomId)?.history).toEqual([
      { at: 10, status: "starting" },
      { at: 10 + BIND_DEADLINE_MS, status: "destroyed" },
    ]);
  });

  it("destroys a destroyMidStart room before it would have become active", () => {
    const world = new World({ seed: 9 });
    const { roomId } = world.createRoom(0, { appId: APP, scenario: "destroyMidStart" });
    expect(statuses(world, roomId, COLD_START_MAX_MS + 1)).toEqual(["starting", "destroyed"]);
    const destroyedAtMs = world.truth(COLD_START_MAX_MS + 1, roomId)!.history[1]!.at;
    expect(destroyedAtMs).toBeGreaterThan(0);
    expect(destroyedAtMs).toBeLessThan(COLD_START_MAX_MS);
  });

  it("reschedules every room of a crashed process onto one new cold process with a new port", () => {
    const { world, roomId, processId, nowMs } = worldWithRunningProcess({ seed: 21 });
    const warm = world.createRoom(nowMs, { appId: APP, scenario: "warm" });
    const beforeMs = nowMs + 500;
    const oldPort = world.truth(beforeMs, roomId)!.exposedPort!;
    const moved = world.crashProcess(beforeMs, processId);
    expect(moved).toEqual([roomId, warm.roomId]);
    const newProcess = world.processOf(beforeMs, roomId)!;
    expect(newProcess).not.toBe(processId);
    expect(world.processOf(beforeMs, warm.roomId)).toBe(newProcess);
    expect(world.connectionInfo(beforeMs, APP, roomId)?.status).toBe("starting");
    const laterMs = beforeMs + COLD_START_MAX_MS;
    const newPort = world.truth(laterMs, roomId)!.exposedPort!;
    expect(newPort.port).not.toBe(oldPort.port);
    expect(statuses(world, roomId, laterMs)).toEqual(["starting", "active", "starting", "active"]);
    const info = RoomSchema.parse(world.roomInfo(laterMs, APP, roomId));
    expect(info.allocations).toHaveLength(2);
    expect(info.allocations[0]!.processId).toBe(processId);
    expect(info.allocations[0]!.unscheduledAt).not.toBeNull();
    expect(info.currentAllocation).toEqual(info.allocations[1]);
    expect(world.crashProcess(laterMs, processId)).toEqual([]);
  });

  it("runs a scheduled crash at its time", () => {
    const { world, roomId, processId, nowMs } = worldWithRunningProcess();
    world.scheduleCrash(nowMs, processId, nowMs + 2000);
    expect(world.processOf(nowMs + 1999, roomId)).toBe(processId);
    expect(world.processOf(nowMs + 2000, roomId)).not.toBe(processId);
    const entry = world.truth(nowMs + 2000, roomId)!.history.at(-1)!;
    expect(entry).toEqual({ at: nowMs + 2000, status: "starting" });
  });

  it("destroys a room: 404-like views, kept history, listed as inactive", () => {
    const { world, roomId, processId, nowMs } = worldWithRunningProcess();
    const atMs = nowMs + 10;
    expect(world.destroyRoom(atMs, roomId)).toBe(true);
    expect(world.destroyRoom(atMs, roomId)).toBe(false);
    expect(world.connectionInfo(atMs, APP, roomId)).toBeUndefined();
    expect(world.connectionInfoV1(atMs, APP, roomId)).toBeUndefined();
    expect(world.roomInfo(atMs, APP, roomId)).toBeUndefined();
    expect(world.truth(atMs, roomId)).toMatchObject({ status: "destroyed", exposedPort: undefined, processId: undefined });
    expect(statuses(world, roomId, atMs)).toEqual(["starting", "active", "destroyed"]);
    expect(world.listRooms(atMs, APP, processId, "active")).toEqual([]);
    const inactive = world.listRooms(atMs, APP, processId, "inactive")!;
    expect(inactive.map((r) => RoomWithoutAllocationsSchema.parse(r))).toMatchObject([{ roomId, status: "destroyed" }]);
    expect(world.listRooms(atMs, APP, "no-such-process", "active")).toBeUndefined();
    expect(world.roomIds()).toEqual([roomId]);
  });

  it("suspends and resumes a room", () => {
    const { world, roomId, nowMs } = worldWithRunningProcess({ warmProbability: 0 });
    const atMs = nowMs + 10;
    expect(world.suspendRoom(atMs, roomId)).toBe(true);
    expect(world.connectionInfo(atMs, APP, roomId)).toEqual({ additionalExposedPorts: [], status: "suspended", roomId });
    expect(ConnectionInfoV1Schema.parse(world.connectionInfoV1(atMs, APP, roomId))).toEqual({ status: "suspended", roomId });
    expect(world.roomInfo(atMs, APP, roomId)).toMatchObject({ status: "suspended", currentAllocation: null });
    expect(world.processOf(atMs, roomId)).toBeUndefined();
    const resumed = world.resumeRoom(atMs, roomId)!;
    expect(world.processOf(atMs, roomId)).toBe(resumed.processId);
    expect(world.connectionInfo(atMs, APP, roomId)?.status).toBe("starting");
    expect(world.connectionInfo(atMs + COLD_START_MAX_MS, APP, roomId)?.status).toBe("active");
    expect(statuses(world, roomId, atMs + COLD_START_MAX_MS)).toEqual(["starting", "active", "suspended", "starting", "active"]);
    world.destroyRoom(atMs + COLD_START_MAX_MS, roomId);
    expect(world.resumeRoom(atMs + COLD_START_MAX_MS, roomId)).toBeUndefined();
    expect(world.suspendRoom(atMs + COLD_START_MAX_MS, roomId)).toBe(false);
  });

  it("stops a process idle for 5 minutes, so it no longer takes warm rooms", () => {
    const { world, roomId, nowMs } = worldWithRunningProcess();
    world.destroyRoom(nowMs, roomId);
    expect(world.createRoom(nowMs + IDLE_PROCESS_STOP_MS - 1, { appId: APP, scenario: "warm" }).scenario).toBe("warm");
    const other = worldWithRunningProcess();
    other.world.destroyRoom(other.nowMs, other.roomId);
    expect(() => other.world.createRoom(other.nowMs + IDLE_PROCESS_STOP_MS, { appId: APP, scenario: "warm" })).toThrow(
      ConfigError,
    );
  });

  it("exposes additional ports when active, and v1 connection info", () => {
    const { world, roomId, nowMs } = worldWithRunningProcess({ additionalPorts: 2, transportType: "tcp", host: "10.0.0.1" });
    const info = ConnectionInfoV2Schema.parse(world.connectionInfo(nowMs, APP, roomId));
    expect(info.additionalExposedPorts.map((p) => p.name)).toEqual(["debug", "metrics"]);
    const ports = [info.exposedPort!.port, ...info.additionalExposedPorts.map((p) => p.port)];
    expect(new Set(ports).size).toBe(3);
    expect(ConnectionInfoV1Schema.parse(world.connectionInfoV1(nowMs, APP, roomId))).toEqual({
      status: "active",
      transportType: "tcp",
      port: info.exposedPort!.port,
      host: "10.0.0.1",
      roomId,
    });
    expect(world.connectionInfo(nowMs, "other-app", roomId)).toBeUndefined();
  });

  it("records every transition and calls the hook after committing, ignoring a throwing hook", () => {
    const calls: unknown[][] = [];
    const world = new World({
      onTransition: (...args) => {
        calls.push(args);
        throw new Error("observer failure");
      },
    });
    const { roomId } = world.createRoom(0, { appId: APP, scenario: "cold" });
    expect(calls).toEqual([[roomId, "starting", undefined, 0]]);
    world.advance(COLD_START_MAX_MS);
    const active = world.truth(COLD_START_MAX_MS, roomId)!.history[1]!;
    expect(calls[1]).toEqual([roomId, "active", active.exposedPort, active.at]);
  });

  it("never goes back in time", () => {
    const world = new World();
    const { roomId } = world.createRoom(0, { appId: APP, scenario: "cold" });
    world.advance(COLD_START_MAX_MS);
    expect(world.connectionInfo(0, APP, roomId)?.status).toBe("active");
    expect(world.nowMs).toBe(COLD_START_MAX_MS);
  });

  it("is deterministic for a seed: same ids, ports and times; another seed differs", () => {
    function script(seed: number): unknown {
      const world = new World({ seed });
      const rooms = [0, 10, 20, 30, 40, 50].map((t) => world.createRoom(t, { appId: APP }).roomId);
      world.advance(20_000);
      const later = world.createRoom(20_000, { appId: APP }).roomId;
      const p = world.processOf(20_000, rooms[0]!)!;
      world.crashProcess(20_100, p);
      world.advance(200_000);
      return [...rooms, later].map((id) => world.truth(200_000, id));
    }
    expect(script(1234)).toEqual(script(1234));
    expect(script(1234)).not.toEqual(script(4321));
  });

  it("rejects invalid options and room ids", () => {
    expect(() => new World({ roomsPerProcess: 0 })).toThrow(ConfigError);
    expect(() => new World({ warmProbability: 2 })).toThrow(ConfigError);
    expect(() => new World({ warmStartMs: [400, 50] })).toThrow(ConfigError);
    expect(() => new World({ coldStartMedianMs: -1 })).toThrow(ConfigError);
    expect(() => new World({ additionalPorts: 3 })).toThrow(ConfigError);
    const world = new World();
    world.createRoom(0, { appId: APP, roomId: "taken" });
    expect(() => world.createRoom(0, { appId: APP, roomId: "taken" })).toThrow(ConfigError);
    expect(() => world.createRoom(0, { appId: APP, roomId: "bad id" })).toThrow(ConfigError);
  });
});
