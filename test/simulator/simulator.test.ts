import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { Simulator, type SimulatorOptions } from "../../src/simulator/simulator.js";
import { COLD_START_MAX_MS } from "../../src/simulator/world.js";
import { ApiErrorSchema, ConnectionInfoV1Schema, ConnectionInfoV2Schema, ResumeRoomResponseSchema, RoomConnectionDataSchema, RoomSchema, RoomWithoutAllocationsSchema } from "../../src/providers/hathora/schemas.js";

const APP = "app-1";
const TOKEN = "s3cret-token";
const AUTH = { authorization: `Bearer ${TOKEN}` } as const;

let sim: Simulator | undefined;
/** The injected clock: tests move it by hand instead of sleeping. */
let clockMs = 0;
const clock = { now: () => clockMs };

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  clockMs = 0;
  sim = await Simulator.start({ clock, token: TOKEN, ...options });
  return sim;
}

function get(s: Simulator, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${s.url}${path}`, { headers });
}

function post(s: Simulator, path: string, body?: string, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${s.url}${path}`, {
    method: "POST",
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body }),
  });
}

async function expectApiError(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  return ApiErrorSchema.parse(await response.json()).message;
}

async function createOverHttp(s: Simulator, query = ""): Promise<{ roomId: string; processId: string }> {
  const response = await post(s, `/rooms/v2/${APP}/create${query}`, JSON.stringify({ region: "London" }));
  expect(response.status).toBe(201);
  return RoomConnectionDataSchema.parse(await response.json());
}

describe("Simulator over HTTP", () => {
  it("creates a room: 201 RoomConnectionData without exposedPort", async () => {
    const s = await start({ seed: 7 });
    const response = await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London", roomConfig: "{}" }));
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/json");
    const data = RoomConnectionDataSchema.parse(await response.json());
    expect(data).toEqual({ additionalExposedPorts: [], status: "starting", roomId: data.roomId, processId: data.processId });
    expect(data.roomId).toMatch(/^[a-z0-9]{13}$/);
    expect(s.processOf(data.roomId)).toBe(data.processId);
    expect(s.rooms()).toEqual([data.roomId]);
  });

  it("answers connection info v2 (no auth) starting, then active with the truth's port", async () => {
    const s = await start({ neverReadyProbability: 0 });
    const { roomId } = await createOverHttp(s);
    const starting = await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    expect(starting.status).toBe(200);
    expect(ConnectionInfoV2Schema.parse(await starting.json())).toEqual({ additionalExposedPorts: [], status: "starting", roomId });
    clockMs = COLD_START_MAX_MS;
    const active = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(active.status).toBe("active");
    expect(active.exposedPort).toMatchObject({ host: "127.0.0.1", transportType: "udp", name: "default" });
    expect(active.exposedPort).toEqual(s.truth(roomId)?.exposedPort);
  });

  it("makes a cold room active quickly with timeScale", async () => {
    const s = await start({ timeScale: 100 });
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS / 100;
    expect(s.now()).toBe(COLD_START_MAX_MS);
    const info = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(info.status).toBe("active");
    const activeAtMs = s.truth(roomId)!.history[1]!.at;
    expect(s.realTimeOf(activeAtMs)).toBeCloseTo(activeAtMs / 100);
  });

  it("answers v1 connection info (no auth) in both shapes", async () => {
    const s = await start();
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    const starting = await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`);
    expect(ConnectionInfoV1Schema.parse(await starting.json())).toEqual({ status: "starting", roomId });
    clockMs = COLD_START_MAX_MS;
    const active = ConnectionInfoV1Schema.parse(await (await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`)).json());
    const port = s.truth(roomId)!.exposedPort!;
    expect(active).toEqual({ status: "active", transportType: port.transportType, port: port.port, host: port.host, roomId });
  });

  it("answers room info: scheduling, then active, with allocations and roomConfig", async () => {
    const s = await start({ neverReadyProbability: 0 });
    const create = await post(s, `/rooms/v2/${APP}/create?roomId=my-room`, JSON.stringify({ region: "Tokyo", roomConfig: "cfg" }));
    const { processId } = RoomConnectionDataSchema.parse(await create.json());
    const scheduling = RoomSchema.parse(await (await get(s, `/rooms/v2/${APP}/info/my-room`, AUTH)).json());
    expect(scheduling).toMatchObject({ roomId: "my-room", appId: APP, status: "scheduling", roomConfig: "cfg" });
    expect(scheduling.currentAllocation).toMatchObject({ processId, unscheduledAt: null });
    clockMs = COLD_START_MAX_MS;
    const active = RoomSchema.parse(await (await get(s, `/rooms/v2/${APP}/info/my-room`, AUTH)).json());
    expect(active.status).toBe("active");
    expect(active.allocations).toHaveLength(1);
  });

  it("destroys a room: 204, then 404 everywhere with an ApiError body", async () => {
    const s = await start();
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    const destroyed = await post(s, `/rooms/v2/${APP}/destroy/${roomId}`);
    expect(destroyed.status).toBe(204);
    expect(await destroyed.text()).toBe("");
    expect(await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`), 404)).toContain(roomId);
    await expectApiError(await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`), 404);
    await expectApiError(await get(s, `/rooms/v2/${APP}/info/${roomId}`, AUTH), 404);
    await expectApiError(await post(s, `/rooms/v2/${APP}/destroy/${roomId}`), 404);
    await expectApiError(await post(s, `/rooms/v2/${APP}/destroy/unknown-room`), 404);
    expect(s.truth(roomId)?.status).toBe("destroyed");
    expect(s.destroyRoom(APP, roomId)).toBe(false);
  });

  it("suspends (204, suspended connection info) and resumes (200 with processId)", async () => {
    const s = await start({ warmProbability: 0 });
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS;
    expect((await post(s, `/rooms/v2/${APP}/suspend/${roomId}`)).status).toBe(204);
    const suspended = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(suspended).toEqual({ status: "suspended", roomId, additionalExposedPorts: [] });
    const info = RoomSchema.parse(await (await get(s, `/rooms/v2/${APP}/info/${roomId}`, AUTH)).json());
    expect(info).toMatchObject({ status: "suspended", currentAllocation: null });
    const resumed = await post(s, `/rooms/v2/${APP}/resume/${roomId}`);
    expect(resumed.status).toBe(200);
    const body = ResumeRoomResponseSchema.parse(await resumed.json());
    expect(body).toMatchObject({ status: "starting", roomId, additionalExposedPorts: [] });
    expect(body.processId).toBe(s.processOf(roomId));
    await expectApiError(await post(s, `/rooms/v2/${APP}/resume/nope`), 404);
  });

  it("lists the active and inactive rooms of a process", async () => {
    const s = await start();
    const a = s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS;
    const b = s.createRoom(APP, { scenario: "warm" });
    s.destroyRoom(APP, a.roomId);
    const active = await get(s, `/rooms/v2/${APP}/list/${a.processId}/active`, AUTH);
    expect(active.status).toBe(200);
    const activeRooms = RoomWithoutAllocationsSchema.array().parse(await active.json());
    expect(activeRooms.map((r) => r.roomId)).toEqual([b.roomId]);
    const inactive = RoomWithoutAllocationsSchema.array().parse(
      await (await get(s, `/rooms/v2/${APP}/list/${a.processId}/inactive`, AUTH)).json(),
    );
    expect(inactive).toMatchObject([{ roomId: a.roomId, status: "destroyed", currentAllocation: null }]);
    expect(inactive[0]).not.toHaveProperty("allocations");
    await expectApiError(await get(s, `/rooms/v2/${APP}/list/no-such-process/active`, AUTH), 404);
  });

  it("requires a bearer token on admin endpoints, never echoes it, and not on connection info", async () => {
    const s = await start();
    const { roomId } = s.createRoom(APP);
    const wrong = "Bearer wrong-token-value";
    for (const response of [
      await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London" }), {}),
      await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London" }), { authorization: wrong }),
      await post(s, `/rooms/v2/${APP}/destroy/${roomId}`, undefined, { authorization: "Bearer " }),
      await get(s, `/rooms/v2/${APP}/info/${roomId}`, { authorization: `Basic ${TOKEN}` }),
      await get(s, `/rooms/v2/${APP}/list/x/active`),
    ]) {
      const text = await response.clone().text();
      expect(text).not.toContain("wrong-token-value");
      expect(text).not.toContain(TOKEN);
      expect(await expectApiError(response, 401)).toBe("Unauthorized");
    }
    expect((await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).status).toBe(200);
    expect((await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`)).status).toBe(200);
    expect(s.truth(roomId)?.status).toBe("starting");
  });

  it("accepts any non-empty bearer token when no token is configured", async () => {
    const s = await start({ token: undefined });
    const response = await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London" }), {
      authorization: "Bearer anything",
    });
    expect(response.status).toBe(201);
    await expectApiError(await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London" }), {}), 401);
  });

  it("serves only the configured appId", async () => {
    const s = await start({ appId: APP });
    const { roomId } = s.createRoom(APP);
    expect(await expectApiError(await post(s, `/rooms/v2/other/create`, JSON.stringify({ region: "London" })), 404)).toBe(
      "App other not found",
    );
    await expectApiError(await get(s, `/rooms/v2/other/connectioninfo/${roomId}`), 404);
    await expectApiError(await get(s, `/rooms/v1/other/connectioninfo/${roomId}`), 404);
    expect((await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).status).toBe(200);
    expect(() => s.createRoom("other")).toThrow(ConfigError);
  });

  it("keeps rooms apart per app even without an appId restriction", async () => {
    const s = await start();
    const { roomId } = s.createRoom("app-a");
    await expectApiError(await get(s, `/rooms/v2/app-b/connectioninfo/${roomId}`), 404);
    await expectApiError(await get(s, `/rooms/v2/bad%20app/connectioninfo/${roomId}`), 404);
  });

  it("percent-decodes path parameters", async () => {
    const s = await start();
    s.createRoom(APP, { roomId: "abc_1-x" });
    expect((await get(s, `/rooms/v2/%61pp-1/connectioninfo/%61bc_1%2Dx`)).status).toBe(200);
    // An encoded slash stays inside the segment: not a route separator, so not this room.
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/abc%2F1`), 404);
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/%E0%A4%A`), 400);
  });

  it("answers 404 ApiError for unknown routes and 405 for a wrong method", async () => {
    const s = await start();
    for (const path of ["/", "/rooms/v3/app/connectioninfo/x", "/rooms/v2/app/connectioninfo", "/rooms/v2/app/connectioninfo/x/y"]) {
      expect(await expectApiError(await get(s, path), 404)).toBe("Not found");
    }
    const wrongMethod = await get(s, `/rooms/v2/${APP}/create`, AUTH);
    await expectApiError(wrongMethod, 405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });

  it("validates create bodies and room ids: 400, 422, 413", async () => {
    const s = await start();
    const path = `/rooms/v2/${APP}/create`;
    await expectApiError(await post(s, path, "{not json"), 400);
    await expectApiError(await post(s, path), 400);
    await expectApiError(await post(s, path, JSON.stringify({})), 422);
    expect(await expectApiError(await post(s, path, JSON.stringify({ region: "Atlantis" })), 422)).toContain("region");
    await expectApiError(await post(s, path, JSON.stringify({ region: "London", roomConfig: "x".repeat(10_001) })), 422);
    await expectApiError(await post(s, path, JSON.stringify([1, 2])), 422);
    await expectApiError(await post(s, `${path}?roomId=${encodeURIComponent("bad id!")}`, JSON.stringify({ region: "London" })), 422);
    await createOverHttp(s, "?roomId=chosen-id");
    expect(s.truth("chosen-id")?.status).toBe("starting");
    expect(
      await expectApiError(await post(s, `${path}?roomId=chosen-id`, JSON.stringify({ region: "London" })), 400),
    ).toBe("room already exists");
    await expectApiError(await post(s, path, JSON.stringify({ region: "London", pad: "x".repeat(70 * 1024) })), 413);
    expect(s.rooms()).toEqual(["chosen-id"]);
  });

  it("survives garbage on the socket and keeps serving", async () => {
    const s = await start();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(s.port, "127.0.0.1", () => socket.write("NOT HTTP AT ALL\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(s, "/")).status).toBe(404);
  });

  it("reschedules rooms of a crashed process with a new port", async () => {
    const s = await start();
    const { roomId, processId } = s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS;
    const before = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(s.crashProcess(processId)).toEqual([roomId]);
    const starting = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(starting.status).toBe("starting");
    clockMs = 2 * COLD_START_MAX_MS;
    const after = ConnectionInfoV2Schema.parse(await (await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(after.status).toBe("active");
    expect(after.exposedPort!.port).not.toBe(before.exposedPort!.port);
    expect(s.processOf(roomId)).not.toBe(processId);
  });

  it("destroys a never-ready room at the bind deadline: then 404", async () => {
    const s = await start({ timeScale: 1000 });
    const { roomId } = s.createRoom(APP, { scenario: "never" });
    clockMs = 99;
    expect((await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).status).toBe(200);
    clockMs = 100;
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`), 404);
    expect(s.truth(roomId)?.history.map((e) => e.status)).toEqual(["starting", "destroyed"]);
  });

  it("counts requests per room and in total", async () => {
    const s = await start();
    const { roomId } = s.createRoom(APP);
    await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`);
    await get(s, `/rooms/v2/${APP}/info/${roomId}`, AUTH);
    await createOverHttp(s);
    expect(s.requestCount(roomId)).toBe(4);
    expect(s.requestCount(roomId, "connectionInfo")).toBe(2);
    expect(s.requestCount(roomId, "connectionInfoV1")).toBe(1);
    expect(s.requestCount()).toBe(5);
    expect(s.requestCount("nobody")).toBe(0);
  });

  it("calls onTransition lazily at the next request", async () => {
    const seen: string[] = [];
    const s = await start({ onTransition: (roomId, status) => seen.push(`${roomId}:${status}`) });
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    expect(seen).toEqual([`${roomId}:starting`]);
    clockMs = COLD_START_MAX_MS;
    expect(seen).toHaveLength(1);
    await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    expect(seen).toEqual([`${roomId}:starting`, `${roomId}:active`]);
  });

  it("advances the world on its own with tickMs", async () => {
    let resolveActive: (status: string) => void = () => undefined;
    const active = new Promise<string>((resolve) => (resolveActive = resolve));
    const s = await start({
      tickMs: 5,
      onTransition: (_roomId, status) => {
        if (status === "active") resolveActive(status);
      },
    });
    s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS;
    // No request is made: only the tick timer can notice the room became active.
    expect(await active).toBe("active");
    expect(s.requestCount()).toBe(0);
  });

  it("closes idempotently, with keep-alive sockets open", async () => {
    const s = await start();
    await get(s, "/");
    await Promise.all([s.close(), s.close()]);
    await s.close();
    await expect(fetch(`${s.url}/`)).rejects.toThrow();
  });

  it("rejects invalid options", async () => {
    await expect(Simulator.start({ timeScale: 0 })).rejects.toThrow(ConfigError);
    await expect(Simulator.start({ tickMs: -1 })).rejects.toThrow(ConfigError);
    await expect(Simulator.start({ faults: { dropRate: 2 } })).rejects.toThrow(ConfigError);
    await expect(Simulator.start({ faults: { errorRates: { 500: 0.8, 503: 0.8 } } })).rejects.toThrow(ConfigError);
  });
});

describe("Simulator faults", () => {
  it("answers 429 with Retry-After in seconds", async () => {
    const s = await start({ faults: { rateLimit: { probability: 1, retryAfterSeconds: 3 } } });
    const { roomId } = s.createRoom(APP);
    const response = await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    await expectApiError(response, 429);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(s.faultCounts()).toEqual({ rateLimit: 1 });
  });

  it("answers 429 with Retry-After as an HTTP date, or without Retry-After", async () => {
    const s = await start({ faults: { rateLimit: { probability: 1, retryAfterSeconds: 2, retryAfterDate: true } } });
    const { roomId } = s.createRoom(APP);
    const response = await get(s, `/rooms/v1/${APP}/connectioninfo/${roomId}`);
    await expectApiError(response, 429);
    const header = response.headers.get("retry-after")!;
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const waitMs = Date.parse(header) - Date.now();
    expect(waitMs).toBeGreaterThan(1000);
    expect(waitMs).toBeLessThanOrEqual(3000);
    s.setFaults({ rateLimit: { probability: 1 } });
    const bare = await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    await expectApiError(bare, 429);
    expect(bare.headers.has("retry-after")).toBe(false);
  });

  it("injects 5xx at the seeded rates, reproducibly", async () => {
    async function statuses(): Promise<number[]> {
      const s = await start({ seed: 99, faults: { errorRates: { 500: 0.1, 503: 0.05 } } });
      const { roomId } = s.createRoom(APP);
      const result: number[] = [];
      for (let i = 0; i < 400; i++) {
        const response = await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
        if (response.status >= 500) ApiErrorSchema.parse(await response.json());
        else await response.arrayBuffer();
        result.push(response.status);
      }
      const counts = s.faultCounts();
      expect(counts.http500 ?? 0).toBe(result.filter((x) => x === 500).length);
      expect(counts.http503 ?? 0).toBe(result.filter((x) => x === 503).length);
      await s.close();
      return result;
    }
    const first = await statuses();
    const n500 = first.filter((x) => x === 500).length;
    const n503 = first.filter((x) => x === 503).length;
    expect(n500).toBeGreaterThan(20);
    expect(n500).toBeLessThan(65);
    expect(n503).toBeGreaterThan(5);
    expect(n503).toBeLessThan(35);
    expect(first.filter((x) => x !== 200 && x !== 500 && x !== 503)).toEqual([]);
    expect(await statuses()).toEqual(first);
  });

  it("sends bodies that break the documented shape", async () => {
    const s = await start({ seed: 3, faults: { malformedRate: 1 }, additionalPorts: 1 });
    const starting = s.createRoom(APP, { roomId: "starting-room" });
    const { roomId } = s.createRoom(APP, { scenario: "cold" });
    clockMs = COLD_START_MAX_MS;
    const kinds = new Set<string>();
    for (let i = 0; i < 30; i++) {
      for (const [path, schema] of [
        [`/rooms/v2/${APP}/connectioninfo/${roomId}`, ConnectionInfoV2Schema],
        [`/rooms/v2/${APP}/connectioninfo/${starting.roomId}`, ConnectionInfoV2Schema],
        [`/rooms/v1/${APP}/connectioninfo/${roomId}`, ConnectionInfoV1Schema],
      ] as const) {
        const response = await get(s, path);
        expect(response.status).toBe(200);
        const text = await response.text();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          kinds.add("truncated");
          continue;
        }
        kinds.add("parsed");
        expect(schema.safeParse(json).success).toBe(false);
      }
    }
    expect(kinds).toEqual(new Set(["truncated", "parsed"]));
    expect(s.faultCounts()).toEqual({ malformed: 90 });
    // Errors are not garbled: there is no documented shape to break.
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/unknown`), 404);
  });

  it("drops the connection without answering: fetch rejects", async () => {
    const s = await start({ faults: { dropRate: 1 } });
    const { roomId } = s.createRoom(APP);
    await expect(get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).rejects.toThrow(TypeError);
    expect(s.faultCounts()).toEqual({ drop: 1 });
    expect(s.requestCount(roomId)).toBe(1);
  });

  it("lets room faults override server faults, and spares admin endpoints unless faultAdmin", async () => {
    const s = await start({ faults: { errorRates: { 500: 1 } } });
    const spared = s.createRoom(APP).roomId;
    const other = s.createRoom(APP).roomId;
    s.setRoomFaults(spared, { errorRates: {} });
    expect((await get(s, `/rooms/v2/${APP}/connectioninfo/${spared}`)).status).toBe(200);
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/${other}`), 500);
    expect((await get(s, `/rooms/v2/${APP}/info/${other}`, AUTH)).status).toBe(200);
    s.setRoomFaults(spared, undefined);
    await expectApiError(await get(s, `/rooms/v2/${APP}/connectioninfo/${spared}`), 500);
    expect(() => s.setRoomFaults(spared, { malformedRate: -1 })).toThrow(ConfigError);
  });

  it("faults admin endpoints with faultAdmin", async () => {
    const s = await start({ faults: { errorRates: { 503: 1 } }, faultAdmin: true });
    await expectApiError(await post(s, `/rooms/v2/${APP}/create`, JSON.stringify({ region: "London" })), 503);
    expect(s.rooms()).toEqual([]);
    expect(s.faultCounts()).toEqual({ http503: 1 });
  });

  it("delays answers by latencyMs, and close() does not wait for a delayed answer", async () => {
    const s = await start({ faults: { latencyMs: 30 } });
    const { roomId } = s.createRoom(APP);
    const startedAt = performance.now();
    expect((await get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`)).status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(25);
    s.setFaults({ latencyMs: 60_000 });
    const pending = get(s, `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    const settled = expect(pending).rejects.toThrow(TypeError);
    // The request must have reached the server before closing, or close() has nothing to cut short.
    while (s.requestCount(roomId) < 2) await new Promise((resolve) => setImmediate(resolve));
    await s.close();
    await settled;
    expect(s.faultCounts()).toEqual({ latency: 2 });
  });
});
