/**
 * examples/wait-and-connect.sh run with bash against a simulator in this process, as it runs in a fresh
 * clone: with no `room-watcher` on PATH, so it falls back to the clone's built CLI. One test per exit
 * code it acts on; then with `room-watcher` on PATH (a shim to the built CLI, as `npm link` makes),
 * which it prefers; then in a copy with no build, where it says what to do.
 */
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { Simulator } from "../../src/simulator/simulator.js";
import { ConnectionInfoV2Schema } from "../../src/providers/hathora/schemas.js";
import { CLI_PATH, type CliExit, type Exchange, killAllCli, type RecordingProxy, spawnChild, startRecordingProxy } from "../helpers/cli-process.js";

const APP = "app-shell";
const SCRIPT = "examples/wait-and-connect.sh";

let sim: Simulator;
let proxy: RecordingProxy;
/** Holds `node` only: with the system directories, the PATH of a machine that has never installed room-watcher. */
let nodeDir: string;
/** Holds a `room-watcher` shim that records each use in `shimLog`. */
let shimDir: string;
let shimLog: string;
let cleanPath: string;

beforeAll(async () => {
  sim = await Simulator.start({ seed: 31, timeScale: 50 });
  proxy = await startRecordingProxy(sim.url);
  nodeDir = await mkdtemp(join(tmpdir(), "room-watcher-node-"));
  await symlink(process.execPath, join(nodeDir, "node"));
  cleanPath = [nodeDir, "/usr/bin", "/bin"].join(delimiter);
  // The fallback is only exercised if nothing on that PATH is called room-watcher.
  expect(cleanPath.split(delimiter).filter((dir) => existsSync(join(dir, "room-watcher")))).toEqual([]);
  shimDir = await mkdtemp(join(tmpdir(), "room-watcher-bin-"));
  shimLog = join(shimDir, "uses.log");
  const shim = join(shimDir, "room-watcher");
  await writeFile(shim, `#!/bin/sh\necho "$@" >> "${shimLog}"\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  await chmod(shim, 0o755);
});

afterAll(async () => {
  await killAllCli();
  await proxy.close();
  await sim.close();
  await rm(nodeDir, { recursive: true, force: true });
  await rm(shimDir, { recursive: true, force: true });
});

function script(context: TestContext, roomId: string, env: Record<string, string>, scriptPath = SCRIPT) {
  // A process group of its own, as in a terminal: Ctrl-C reaches the script and what it runs.
  const run = spawnChild("bash", [scriptPath, roomId], {
    env: { PATH: cleanPath, ...env },
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
    // The CLI's own line says how the room ended and what it saw (see test/cli/cli.test.ts); then the script's.
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
    expect(exit.stderr).toContain("room-watcher: --app-id (HATHORA_APP_ID) is required with --provider hathora");
    expect(exit.stderr.endsWith("bad arguments or configuration (is HATHORA_APP_ID set?)\n")).toBe(true);
  });

  it("exit 5: the credentials refused (403)", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 403: 1 } });
    const exit = await script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url }).exited;
    expect(exit.code).toBe(5);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toMatch(/^room-watcher: .*403.*\nthe rooms API refused our credentials \(401 or 403\): check HATHORA_TOKEN\n$/);
  });

  it("exit 1: a terminal API error", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 422: 1 } });
    const exit = await script(context, roomId, { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url }).exited;
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toMatch(/^room-watcher: .*422.*\nroom-watcher failed \(exit 1\): an API error or a bug; see its message above\n$/);
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

  it("prefers room-watcher on PATH (as `npm link` or a global install puts it) to the clone's build", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const exit = await script(context, roomId, { PATH: `${shimDir}${delimiter}${cleanPath}`, HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url }).exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(new RegExp(`^room ${roomId} is joinable at 127\\.0\\.0\\.1:\\d+\\n`));
    expect(await readFile(shimLog, "utf8")).toBe(`wait ${roomId} --timeout 120000\n`);
  });

  it("exit 127 with what to do when room-watcher is neither on PATH nor built in the clone", async (context) => {
    const clone = await mkdtemp(join(tmpdir(), "room-watcher-clone-"));
    context.onTestFinished(() => rm(clone, { recursive: true, force: true }));
    const copy = join(clone, SCRIPT);
    await mkdir(dirname(copy), { recursive: true });
    await copyFile(SCRIPT, copy);
    const exit = await script(context, "some-room", { HATHORA_APP_ID: APP, HATHORA_BASE_URL: sim.url }, copy).exited;
    expect(summary(exit)).toEqual({
      code: 127,
      signal: null,
      stdout: "",
      stderr: `room-watcher is not on PATH, and ${join(clone, "dist/cli/main.js")} is not built: run npm ci && npm run build (or npm link)\n`,
    });
  });
});
