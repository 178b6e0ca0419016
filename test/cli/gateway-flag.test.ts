/**
 * `wait --gateway` and `watch --gateway` as a user runs them (the built CLI as a child process) against
 * a real gateway on loopback in front of the simulator: rooms come pushed over the WebSocket, the token
 * from --gateway-token or ROOM_WATCHER_GATEWAY_TOKEN (never printed); with the gateway unreachable, the
 * rooms API is polled instead. However the command ends, it closes its socket itself (close code 1000
 * on the gateway's side, not a dropped connection) and the process exits by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { LogFields } from "../../src/gateway/logging.js";
import { Gateway } from "../../src/gateway/server.js";
import { Simulator } from "../../src/simulator/simulator.js";
import type { ExposedPort } from "../../src/core/observation.js";
import { cliForTest, type Exchange, killAllCli, type RecordingProxy, startRecordingProxy } from "../helpers/cli-process.js";
import { freeStablePort } from "../helpers/free-port.js";

const APP = "app-cli-gw";
const GATEWAY_TOKEN = "gw_client_token_7d1e55aa";
/** Nothing listens here: a rooms API that cannot answer, so a room seen active came through the gateway. */
const DEAD_BASE_URL = "http://127.0.0.1:59";

/** The gateway's log, recorded, with a way to wait for an entry. */
function recordingLogger() {
  const entries: Array<{ message: string; fields: LogFields }> = [];
  const waiters = new Set<{ matches: (e: { message: string; fields: LogFields }) => boolean; resolve: () => void }>();
  const log = (fields: LogFields, message: string): void => {
    const entry = { message, fields };
    entries.push(entry);
    for (const waiter of [...waiters]) {
      if (waiter.matches(entry)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  return {
    logger: { debug: log, info: log, warn: log, error: log },
    entries,
    until(matches: (e: { message: string; fields: LogFields }) => boolean): Promise<void> {
      if (entries.some(matches)) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ matches, resolve }));
    },
  };
}

let sim: Simulator;
let proxy: RecordingProxy;
let gateway: Gateway;
let log: ReturnType<typeof recordingLogger>;

beforeAll(async () => {
  sim = await Simulator.start({ seed: 12, timeScale: 50, appId: APP });
  proxy = await startRecordingProxy(sim.url);
  log = recordingLogger();
  gateway = await Gateway.start({ baseUrl: sim.url, appId: APP, clientToken: GATEWAY_TOKEN, pollOptions: { activePollIntervalMs: 100 }, logger: log.logger });
});

afterAll(async () => {
  await killAllCli();
  await gateway.close();
  await proxy.close();
  await sim.close();
});

const cli = cliForTest;

/** Connections the gateway saw closed, by close code, since `from` entries of its log. */
const closesSince = (from: number): unknown[] => log.entries.slice(from).filter((e) => e.message === "connection closed").map((e) => e.fields.code);
const closedNormally = (from: number) => log.until((e) => e.message === "connection closed" && log.entries.indexOf(e) >= from && e.fields.code === 1000);

function activePort(roomId: string): ExposedPort {
  const truth = sim.truth(roomId);
  expect(truth?.status).toBe("active");
  if (truth?.exposedPort === undefined) throw new Error(`room ${roomId} has no exposed port`);
  return truth.exposedPort;
}

describe("wait --gateway", () => {
  it("prints host:port from the gateway's push (the rooms API unreachable), exits 0 and closes its socket", async (context) => {
    const from = log.entries.length;
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const result = await cli(context, ["wait", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url], {
      env: { ROOM_WATCHER_GATEWAY_TOKEN: GATEWAY_TOKEN },
    }).exited;
    const port = activePort(roomId);
    expect(result).toEqual({ code: ExitCode.OK, signal: null, stdout: `${port.host}:${port.port}\n`, stderr: "" });
    await closedNormally(from);
    expect(closesSince(from)).toEqual([1000]);
    expect(gateway.stats.connections).toBe(0);
  });

  it("with --json, a wrong --gateway-token exits 1 naming the refusal, and never prints either token", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const wrong = "gw_wrong_token_0c3b9f";
    const result = await cli(context, ["wait", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url, "--gateway-token", wrong, "--json"]).exited;
    expect({ code: result.code, signal: result.signal }).toEqual({ code: ExitCode.ERROR, signal: null });
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { name: "RoomTerminatedError", reason: "failed" } });
    expect(result.stderr).toContain("the gateway refused our token (close code 4401)");
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(result.stdout + result.stderr).not.toContain(GATEWAY_TOKEN);
  });

  it("SIGINT while it waits exits 130, its socket closed normally on the way out", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const from = log.entries.length;
    const run = cli(context, ["wait", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url, "--gateway-token", GATEWAY_TOKEN]);
    await log.until((e) => e.message === "joining room" && e.fields.roomId === roomId);
    run.kill("SIGINT");
    const result = await run.exited;
    expect(result).toEqual({ code: ExitCode.INTERRUPTED, signal: null, stdout: "", stderr: "room-watcher: interrupted by SIGINT\n" });
    await closedNormally(from);
    expect(closesSince(from)).toEqual([1000]);
  });

  it("with the gateway unreachable, polls the rooms API after --gateway-fallback-after and still prints host:port", async (context) => {
    const deadGateway = `ws://127.0.0.1:${await freeStablePort()}`;
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const result = await cli(context, ["wait", roomId, "--app-id", APP, "--base-url", proxy.url, "--gateway", deadGateway, "--gateway-fallback-after", "100"]).exited;
    const port = activePort(roomId);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.OK, stdout: `${port.host}:${port.port}\n` });
    const polled = proxy.exchanges.filter((e: Exchange) => e.path === `/rooms/v2/${APP}/connectioninfo/${roomId}`);
    expect(polled.length).toBeGreaterThan(0);
  });
});

describe("watch --gateway --json", () => {
  it("prints each event pushed by the gateway until the room is destroyed, then exits 3 and closes its socket", async (context) => {
    const from = log.entries.length;
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const run = cli(context, ["watch", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url, "--gateway-token", GATEWAY_TOKEN, "--json"]);
    await run.line((l) => l.startsWith('{"event":"active"'));
    const port = activePort(roomId);
    expect(sim.destroyRoom(APP, roomId)).toBe(true);
    const result = await run.exited;
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: ExitCode.TERMINATED, stderr: "" });
    const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const transitions = events.filter((e) => e.event !== "status");
    expect(transitions.map((e) => e.event).filter((e) => e !== "starting")).toEqual(["active", "terminated"]);
    expect(transitions.at(-2)).toMatchObject({ event: "active", roomId, exposedPort: port, moved: false });
    expect(transitions.at(-1)).toMatchObject({ event: "terminated", roomId, reason: "destroyed" });
    expect(result.stdout).not.toContain(GATEWAY_TOKEN);
    await closedNormally(from);
    expect(closesSince(from)).toEqual([1000]);
  });

  it("SIGTERM while it watches exits 130, its socket closed normally on the way out", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const from = log.entries.length;
    const run = cli(context, ["watch", roomId, "--app-id", APP, "--base-url", DEAD_BASE_URL, "--gateway", gateway.url, "--gateway-token", GATEWAY_TOKEN, "--json"]);
    await log.until((e) => e.message === "joining room" && e.fields.roomId === roomId);
    run.kill("SIGTERM");
    const result = await run.exited;
    expect({ code: result.code, signal: result.signal }).toEqual({ code: ExitCode.INTERRUPTED, signal: null });
    expect(result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; reason?: string }).at(-1)).toMatchObject({ event: "terminated", reason: "aborted" });
    await closedNormally(from);
    expect(closesSince(from)).toEqual([1000]);
  });
});

describe.concurrent("a --gateway that can never work exits 2 at once, naming --gateway", () => {
  it.for([
    ["wait", "http://127.0.0.1:4100"],
    ["watch", "127.0.0.1:4100"],
    ["wait", "not a url"],
    ["watch", "ws://127.0.0.1:4100/?token=x"],
  ] as const)("%s --gateway %j", async ([command, url], context) => {
    const roomId = `bad-gateway-${command}`;
    const result = await cli(context, [command, roomId, "--app-id", APP, "--base-url", proxy.url, "--gateway", url]).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toMatch(/^room-watcher: (invalid )?--gateway /);
    expect(proxy.exchanges.filter((e) => e.path.includes(roomId))).toEqual([]);
  });
});
