/**
 * examples/wait-and-connect.sh run with bash, with `room-watcher` on PATH as a user would have it
 * (a shim to the built CLI), against a simulator in this process: one test per exit code it acts on.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { Simulator } from "../src/simulator/simulator.js";
import { ConnectionInfoV2Schema } from "../src/wire/schemas.js";
import { CLI_PATH, type CliExit, type Exchange, killAllCli, type RecordingProxy, spawnChild, startRecordingProxy } from "./helpers/cli-process.js";

const APP = "app-shell";
const SCRIPT = "examples/wait-and-connect.sh";

let sim: Simulator;
let proxy: RecordingProxy;
let binDir: string;

beforeAll(async () => {
  sim = await Simulator.start({ seed: 31, timeScale: 50 });
  proxy = await startRecordingProxy(sim.url);
  binDir = await mkdtemp(join(tmpdir(), "room-watcher-bin-"));
  const shim = join(binDir, "room-watcher");
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  await chmod(shim, 0o755);
});

afterAll(async () => {
  await killAllCli();
  await proxy.close();
  await sim.close();
  await rm(binDir, { recursive: true, force: true });
});

function script(context: TestContext, roomId: string, env: Record<string, string>) {
  // A process group of its own, as in a terminal: Ctrl-C reaches the script and what it runs.
  const run = spawnChild("bash", [SCRIPT, roomId], {
    env: { PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}`, ...env },
    processGroup: true,
  });
  context.onTestFinished(async () => {
    run.kill();
    await run.exited;
  });
  return run;
}

const ofRoom = (roomId: string) => (exchange: Exchange) => exchange.path === `/rooms/v2/${APP}/connectioninfo/${roomId}`;
const seenStarting = (roomId: string) => (exchange: Exchange) =>
  ofRoom(roomId)(exchange) &&
  exchange.status === 200 &&
  ConnectionInfoV2Schema.parse(JSON.parse(exchange.body)).status === "starting";

const summary = (exit: CliExit) => ({ code: exit.code, signal: exit.signal, stdout: exit.stdout, stderr: exit.stderr });

describe("examples/wait-and-connect.sh", () => {
  it("exit 0: prints where the room is joinable and hands the address to the client", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const exit = await script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url, CLIENT: "echo game-client --connect" }).exited;
    const port = sim.truth(roomId)?.exposedPort?.port;
    expect(port).toEqual(expect.any(Number));
    expect(summary(exit)).toEqual({
      code: 0,
      signal: null,
      stdout: `room ${roomId} is joinable at 127.0.0.1:${port}\ngame-client --connect 127.0.0.1:${port}\n`,
      stderr: "",
    });
  });

  it("exit 3: the room is destroyed while it starts", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const run = script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: proxy.url });
    await proxy.next(seenStarting(roomId));
    expect(sim.destroyRoom(APP, roomId)).toBe(true);
    const exit = summary(await run.exited);
    expect(exit).toMatchObject({ code: 3, signal: null, stdout: "" });
    // The CLI's own line says how the room ended and what it saw (see test/cli.test.ts); then the script's.
    const [cliLine, scriptLine, ...rest] = exit.stderr.split("\n");
    expect(cliLine).toMatch(new RegExp(`^room-watcher: room ${roomId} terminated before it became active: destroyed: \\d+ looks answered`));
    expect(scriptLine).toBe(`room ${roomId} ended before it became joinable (destroyed, suspended or not found): create another`);
    expect(rest).toEqual([""]);
  });

  it("exit 4: the room is not joinable within WAIT_TIMEOUT_MS", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const exit = await script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url, WAIT_TIMEOUT_MS: "300" }).exited;
    expect(summary(exit)).toMatchObject({ code: 4, signal: null, stdout: "" });
    const [cliLine, scriptLine, ...rest] = summary(exit).stderr.split("\n");
    expect(cliLine).toMatch(new RegExp(`^room-watcher: room ${roomId} did not become active within 300 ms: \\d+ looks? answered \\(the last: starting\\)`));
    expect(scriptLine).toBe(`room ${roomId} was not joinable within 300 ms: give up or destroy it`);
    expect(rest).toEqual([""]);
  });

  it("exit 2: no app id", async (context) => {
    const exit = await script(context, "some-room", { HATHORA_BASE_URL: sim.url }).exited;
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toContain("error: required option '--app-id <id>' not specified");
    expect(exit.stderr.endsWith("bad arguments or configuration (is HATHORA_APP_ID set?)\n")).toBe(true);
  });

  it("exit 1: a terminal API error", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 403: 1 } });
    const exit = await script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url }).exited;
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toMatch(/^room-watcher: .*403.*\nroom-watcher failed \(exit 1\): an API error or a bug; see its message above\n$/);
  });

  it("exit 130: Ctrl-C (SIGINT to the script's process group) while it waits", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const run = script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: proxy.url });
    await proxy.next(ofRoom(roomId));
    run.kill("SIGINT");
    expect(summary(await run.exited)).toEqual({
      code: 130,
      signal: null,
      stdout: "",
      stderr: "room-watcher: interrupted by SIGINT\ninterrupted\n",
    });
  });
});
