/**
 * examples/http-backend.mjs as a user runs it (node, importing the built package by name), pointed at
 * a simulator in this process. Every step waits for an event: a line the example prints, an answer,
 * the process exiting by itself.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it, type TestContext } from "vitest";
import { Simulator } from "../../src/simulator/simulator.js";
import { type CliProcess, killAllCli, spawnChild } from "../helpers/cli-process.js";

const APP = "app-backend";
const TOKEN = "tok_backend_example_3c9d";

afterEach(async () => {
  await killAllCli();
});

async function startExample(context: TestContext, simulator: Simulator): Promise<{ run: CliProcess; url: string }> {
  const run = spawnChild(process.execPath, ["examples/http-backend.mjs"], {
    env: { HATHORA_BASE_URL: simulator.url, HATHORA_APP_ID: APP, HATHORA_TOKEN: TOKEN },
  });
  context.onTestFinished(async () => {
    run.kill();
    await run.exited;
    await simulator.close();
  });
  const listening = await run.line((l) => l.startsWith("listening on "));
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(listening)?.[1];
  if (url === undefined) throw new Error(`unexpected first line: ${listening}`);
  return { run, url };
}

const roomOf = (line: string): string => {
  const roomId = /^room (\S+):/.exec(line)?.[1];
  if (roomId === undefined) throw new Error(`no room in ${line}`);
  return roomId;
};

describe("examples/http-backend.mjs", () => {
  it("POST /matches creates a room through the admin API and answers with where to connect once it is active", async (context) => {
    const simulator = await Simulator.start({ seed: 8, timeScale: 50, token: TOKEN });
    const { run, url } = await startExample(context, simulator);

    const response = await fetch(`${url}/matches`, { method: "POST" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { roomId: string; host: string; port: number; transportType: string };
    const truth = simulator.truth(body.roomId);
    expect(truth?.status).toBe("active");
    expect(body).toEqual({ roomId: body.roomId, host: truth?.exposedPort?.host, port: truth?.exposedPort?.port, transportType: "udp" });
    expect(await run.line((l) => l.includes("joinable at"))).toBe(`room ${body.roomId}: joinable at 127.0.0.1:${body.port}`);

    // Stopped, it exits by itself: no poll, timer or socket is left.
    run.kill("SIGTERM");
    const exit = await run.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  });

  it("a caller that hangs up cancels the wait: the room is destroyed, polling stops, and the process exits by itself", async (context) => {
    // Every room created over HTTP lands on a process that never binds: the wait can only end by cancellation.
    // Real time (scale 1), so the 100 s bind deadline cannot end the wait either.
    const simulator = await Simulator.start({ seed: 9, timeScale: 1, token: TOKEN, neverReadyProbability: 1 });
    const { run, url } = await startExample(context, simulator);

    const caller = request(`${url}/matches`, { method: "POST" });
    const hungUp = new Promise<void>((resolve) => caller.once("close", () => resolve()));
    caller.on("error", () => undefined); // the hang-up below surfaces as a socket error on our side
    caller.end();
    const roomId = roomOf(await run.line((l) => l.endsWith("created, waiting until players can join")));
    // The example is polling the room now.
    expect(simulator.truth(roomId)?.status).toBe("starting");
    caller.destroy();
    await hungUp;

    expect(await run.line((l) => l.startsWith(`room ${roomId}: the caller went away`))).toBe(
      `room ${roomId}: the caller went away; wait cancelled, room destroyed`,
    );
    expect(simulator.truth(roomId)?.status).toBe("destroyed");
    expect(simulator.requestCount(roomId, "destroy")).toBe(1);

    // Had the wait (120 s deadline) kept a timer or a request alive, this exit would never come and the
    // child would be killed at its 10 s lifetime, failing the expectation below.
    run.kill("SIGTERM");
    const exit = await run.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    expect(exit.stdout).not.toContain("joinable at");
  });
});
