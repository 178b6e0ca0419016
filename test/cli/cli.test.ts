/**
 * The built CLI (node dist/cli/main.js, no shell) against a real simulator on loopback. Every test
 * waits for events (a process exit, a line on stdout, an answered request), never for time.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/program.js";
import { EXIT_CODE_MEANINGS, ExitCode, exitCodeHelp } from "../../src/cli/exit-codes.js";
import { DEFAULT_LEASE_TTL_MS } from "../../src/gateway/redis/options.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { ConnectionInfoV2Schema } from "../../src/providers/hathora/schemas.js";
import type { ExposedPort } from "../../src/core/observation.js";
import { cliForTest, type Exchange, killAllCli, type RecordingProxy, startRecordingProxy } from "../helpers/cli-process.js";
import { json, scriptedServer } from "../helpers/http-server.js";

const APP = "app-cli";
const TOKEN = "tok_CLI_secret_9f3e7a21c4";

let sim: Simulator;
/** The simulator behind a recorder, for tests that must act once the CLI has had an answer. */
let proxy: RecordingProxy;

beforeAll(async () => {
  sim = await Simulator.start({ seed: 20_261_123, timeScale: 50, additionalPorts: 1 });
  proxy = await startRecordingProxy(sim.url);
});

afterAll(async () => {
  await killAllCli();
  await proxy.close();
  await sim.close();
});

const cli = cliForTest;

const roomArgs = (command: "wait" | "watch", roomId: string, baseUrl: string, ...extra: string[]): string[] => [
  command,
  roomId,
  "--app-id",
  APP,
  "--base-url",
  baseUrl,
  ...extra,
];

const hostPort = (port: ExposedPort): string => `${port.host}:${port.port}`;
/** Where the CLI says it looked for a room. */
const lookedAt = (baseUrl: string, roomId: string): string => `looked at ${baseUrl}/rooms/v2/${APP}/connectioninfo/${roomId} (app ${APP})`;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ofRoom = (roomId: string) => (exchange: Exchange) => exchange.path === `/rooms/v2/${APP}/connectioninfo/${roomId}`;
const seenStarting = (roomId: string) => (exchange: Exchange) =>
  ofRoom(roomId)(exchange) && exchange.status === 200 && ConnectionInfoV2Schema.parse(JSON.parse(exchange.body)).status === "starting";

function activePort(roomId: string): ExposedPort {
  const truth = sim.truth(roomId);
  expect(truth?.status).toBe("active");
  if (truth?.exposedPort === undefined) throw new Error(`room ${roomId} has no exposed port`);
  return truth.exposedPort;
}

function ndjson(stdout: string): Array<Record<string, unknown>> {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("room-watcher wait", () => {
  it("prints the simulator's host:port of a cold room once it is active, and exits 0", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const result = await cli(context, roomArgs("wait", roomId, sim.url)).exited;
    expect(result).toEqual({ code: ExitCode.OK, signal: null, stdout: `${hostPort(activePort(roomId))}\n`, stderr: "" });
  });

  it("--json prints one line with the connection the simulator serves", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const result = await cli(context, roomArgs("wait", roomId, sim.url, "--json")).exited;
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe("");
    const served = ConnectionInfoV2Schema.parse(await (await fetch(`${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`)).json());
    expect(served.additionalExposedPorts).toHaveLength(1);
    expect(ndjson(result.stdout)).toEqual([
      { ok: true, roomId, exposedPort: activePort(roomId), additionalExposedPorts: served.additionalExposedPorts },
    ]);
  });

  it("a room destroyed while the CLI sees it starting exits 3 (terminated) and says destroyed", async (context) => {
    // A process that never binds keeps the room starting until we destroy it. The seeded
    // destroyMidStart scenario is not used: at 50x it can end before the CLI's first look, which then
    // (correctly) reads as "not created yet" and ends as not_found after the 5 s grace.
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const run = cli(context, roomArgs("wait", roomId, proxy.url, "--poll-interval", "20"));
    await proxy.next(seenStarting(roomId));
    expect(sim.destroyRoom(APP, roomId)).toBe(true);
    const result = await run.exited;
    const answers = proxy.exchanges.filter(ofRoom(roomId)).map((e) => e.status);
    expect(result).toEqual({
      code: ExitCode.TERMINATED,
      signal: null,
      stdout: "",
      stderr:
        `room-watcher: room ${roomId} terminated before it became active: destroyed: ` +
        `${answers.length} looks answered (the last: 404, no such room), 0 failed; ${lookedAt(proxy.url, roomId)}\n`,
    });
    expect(answers[0]).toBe(200);
    expect(answers.at(-1)).toBe(404);
  });

  it("a room that never becomes ready exits 4 after --timeout", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const result = await cli(context, roomArgs("wait", roomId, sim.url, "--timeout", "300")).exited;
    expect(result).toMatchObject({ code: ExitCode.TIMEOUT, signal: null, stdout: "" });
    const [, looks] =
      new RegExp(
        `^room-watcher: room ${roomId} did not become active within 300 ms: (\\d+) looks? answered \\(the last: starting\\), 0 failed; ${escape(lookedAt(sim.url, roomId))}\n$`,
      ).exec(result.stderr) ?? [];
    expect(Number(looks)).toBeGreaterThan(0);
    expect(sim.truth(roomId)?.status).toBe("starting");
    expect(sim.requestCount(roomId, "connectionInfo")).toBeGreaterThan(0);
  });

  it("an unknown room with --timeout below the 5 s not-found grace exits 4 (timeout), not 3", async (context) => {
    // A 404 from the first look means "not created yet" for DEFAULT_NOT_FOUND_GRACE_MS (5 s, no CLI
    // flag), so a shorter deadline ends the wait first: timeout, as documented for that case.
    const roomId = "cli-unknown-room";
    const result = await cli(context, roomArgs("wait", roomId, proxy.url, "--timeout", "1000")).exited;
    expect(result).toMatchObject({ code: ExitCode.TIMEOUT, signal: null, stdout: "" });
    expect(result.stderr).toMatch(
      new RegExp(
        `^room-watcher: room ${roomId} did not become active within 1000 ms: \\d+ looks? answered \\(the last: 404, no such room\\), 0 failed; ${escape(lookedAt(proxy.url, roomId))}\n$`,
      ),
    );
    expect(sim.truth(roomId)).toBeUndefined();
    const answers = proxy.exchanges.filter(ofRoom(roomId));
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((e) => e.status === 404)).toBe(true);
  });

  for (const { signal, asJson } of [
    { signal: "SIGINT", asJson: false },
    { signal: "SIGTERM", asJson: true },
  ] as const) {
    it(`${signal} while waiting${asJson ? " with --json" : ""} exits 130 at once`, async (context) => {
      const { roomId } = sim.createRoom(APP, { scenario: "never" });
      // A long poll interval: a poll timer left running would hold the process well past the bound below.
      const run = cli(context, roomArgs("wait", roomId, proxy.url, "--poll-interval", "2000", ...(asJson ? ["--json"] : [])));
      await proxy.next(ofRoom(roomId));
      const killedAt = performance.now();
      run.kill(signal);
      const result = await run.exited;
      expect(performance.now() - killedAt).toBeLessThan(1000);
      const message = `interrupted by ${signal}`;
      expect(result).toEqual({
        code: ExitCode.INTERRUPTED,
        signal: null,
        stdout: asJson ? `${JSON.stringify({ ok: false, exitCode: 130, error: { name: "Error", message } })}\n` : "",
        stderr: `room-watcher: ${message}\n`,
      });
    });
  }
});

describe.concurrent("every ending says why: a dead or wrong upstream never reads as a slow room", () => {
  /** A loopback port nothing listens on (a server started, then closed). */
  async function closedPortUrl(): Promise<string> {
    const server = await scriptedServer();
    await server.close();
    return server.url;
  }

  it("piped: the first failed look is on stderr at once, with the cause and the URL, long before the deadline", async (context) => {
    const url = await closedPortUrl();
    const run = cli(context, roomArgs("wait", "dead-upstream", url, "--timeout", "60000"));
    const first = await run.errorLine((l) => l.includes("a look failed"));
    expect(first).toBe(
      `room-watcher: room dead-upstream: a look failed: request failed: fetch failed: connect ECONNREFUSED ${url.slice("http://".length)} ` +
        "(nothing accepts connections at that host and port: is the base URL right, and the server up?) [RW_NETWORK] " +
        `(looking at ${url}/rooms/v2/${APP}/connectioninfo/dead-upstream); looking again in ${first.match(/looking again in (\d+\.\d) s$/)?.[1] ?? "?"} s`,
    );
    // Still waiting (the deadline is a minute away): the report came from the failure, not the ending.
    expect(run.child.exitCode).toBeNull();
    run.kill("SIGINT");
    expect((await run.exited).code).toBe(ExitCode.INTERRUPTED);
  });

  it("--json: a wait that never reached the upstream exits 4 with the evidence, and says so on stderr", async (context) => {
    const url = await closedPortUrl();
    const result = await cli(context, roomArgs("wait", "dead-upstream", url, "--timeout", "1500", "--json")).exited;
    expect(result.code).toBe(ExitCode.TIMEOUT);
    const [output] = ndjson(result.stdout);
    expect(output).toMatchObject({
      ok: false,
      exitCode: ExitCode.TIMEOUT,
      error: { name: "WaitTimeoutError", code: "RW_TIMEOUT" },
      evidence: {
        url: `${url}/rooms/v2/${APP}/connectioninfo/dead-upstream`,
        app: APP,
        answeredLooks: 0,
        failedLooks: expect.any(Number),
        lastError: { name: "NetworkError", code: "RW_NETWORK", message: expect.stringContaining("ECONNREFUSED") },
        hint: "nothing accepts connections at that host and port: is the base URL right, and the server up?",
      },
    });
    expect((output?.evidence as { failedLooks: number }).failedLooks).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/^room-watcher: room dead-upstream: a look failed: .*ECONNREFUSED/);
    expect(result.stderr).toMatch(
      new RegExp(`\nroom-watcher: room dead-upstream did not become active within 1500 ms: the rooms API was never reached: \\d+ looks? failed, the last: .*ECONNREFUSED.*; ${escape(lookedAt(url, "dead-upstream"))}\n$`),
    );
  });

  describe("a server that is not the rooms API", () => {
    let web: Awaited<ReturnType<typeof scriptedServer>>;
    beforeAll(async () => {
      web = await scriptedServer();
      web.handle((req, res) => {
        if (req.url?.includes("html-502") === true) res.writeHead(502, { "content-type": "text/html" }).end("<html><body><h1>502 Bad Gateway</h1></body></html>");
        else res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
      });
    });
    afterAll(async () => {
      await web.close();
    });

    it("an HTML 502 is named as an HTML page, with a hint about the base URL", async (context) => {
      const result = await cli(context, roomArgs("wait", "html-502", web.url, "--timeout", "1000")).exited;
      expect(result.code).toBe(ExitCode.TIMEOUT);
      const hint = "(an HTML page answered, not the rooms API: is the base URL right?)";
      expect(result.stderr.split("\n")[0]).toBe(
        `room-watcher: room html-502: a look failed: HTTP 502 ${hint} [RW_HTTP] (looking at ${web.url}/rooms/v2/${APP}/connectioninfo/html-502); ` +
          `looking again in ${/looking again in (\d+\.\d) s/.exec(result.stderr)?.[1] ?? "?"} s`,
      );
      expect(result.stderr).toMatch(
        new RegExp(`did not become active within 1000 ms: no look at the rooms API succeeded: \\d+ looks? failed, the last: HTTP 502 ${escape(hint)} \\[RW_HTTP\\]; ${escape(lookedAt(web.url, "html-502"))}\n$`),
      );
    });

    it("a 404 that is not the API's names the URL and app it checked, and asks about the base URL", async (context) => {
      const result = await cli(context, roomArgs("wait", "wrong-host", web.url, "--timeout", "1000")).exited;
      expect(result.code).toBe(ExitCode.TIMEOUT);
      expect(result.stderr).toMatch(
        new RegExp(
          `^room-watcher: room wrong-host did not become active within 1000 ms: \\d+ looks? answered \\(the last: 404, no such room\\), 0 failed; ` +
            `${escape(lookedAt(web.url, "wrong-host"))}; the answer had no JSON error body as the rooms API sends: is the base URL right\\?\n$`,
        ),
      );
    });
  });

  it("a base URL on a port fetch refuses exits 2 at once, naming the port", async (context) => {
    const result = await cli(context, roomArgs("wait", "bad-port", "http://127.0.0.1:6000", "--timeout", "60000")).exited;
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/uses port 6000, which fetch refuses to connect to \(a "bad port" in the Fetch standard\); use another port\n$/);
  });
});

describe.concurrent("usage errors exit 2 with a message on stderr and send no request", () => {
  const cases: ReadonlyArray<{ name: string; roomId: string; args: (roomId: string, baseUrl: string) => string[]; stderr: string }> = [
    {
      name: "wait without --app-id (HATHORA_APP_ID unset)",
      roomId: "usage-room-1",
      args: (roomId, baseUrl) => ["wait", roomId, "--base-url", baseUrl],
      stderr: "room-watcher: --app-id (HATHORA_APP_ID) is required with --provider hathora\n",
    },
    {
      name: "wait ../x (a room id that is a path)",
      roomId: "../x",
      args: (roomId, baseUrl) => roomArgs("wait", roomId, baseUrl),
      stderr: 'room-watcher: invalid room id "../x": expected 1..100 characters of [a-zA-Z0-9_-]\n',
    },
    {
      name: "wait with an ftp:// base URL",
      roomId: "usage-room-3",
      args: (roomId) => roomArgs("wait", roomId, "ftp://127.0.0.1/"),
      // The library's "base URL" told as the flag that sets it.
      stderr: "room-watcher: --base-url must be http or https, not ftp:\n",
    },
    {
      name: "wait --timeout abc",
      roomId: "usage-room-4",
      args: (roomId, baseUrl) => roomArgs("wait", roomId, baseUrl, "--timeout", "abc"),
      stderr: "error: option '--timeout <ms>' argument 'abc' is invalid. expected a non-negative number of milliseconds\n(run with --help for usage)\n",
    },
    {
      name: "watch --timeout -1",
      roomId: "usage-room-5",
      args: (roomId, baseUrl) => roomArgs("watch", roomId, baseUrl, "--timeout", "-1"),
      stderr: "error: option '--timeout <ms>' argument '-1' is invalid. expected a non-negative number of milliseconds\n(run with --help for usage)\n",
    },
  ];
  for (const { name, roomId, args, stderr } of cases) {
    it(name, async (context) => {
      const result = await cli(context, args(roomId, proxy.url)).exited;
      expect(result).toEqual({ code: ExitCode.USAGE, signal: null, stdout: "", stderr });
      expect(proxy.exchanges.filter((e) => e.path.includes(roomId))).toEqual([]);
    });
  }
});

describe.concurrent("--help", () => {
  it("of the program lists the commands, examples and every exit code, and exits 0", async (context) => {
    const result = await cli(context, ["--help"]).exited;
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^Usage: room-watcher \[options\] \[command\]\n/);
    for (const command of ["wait", "watch", "simulate", "demo"]) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(result.stdout).toMatch(/^Examples:$/m);
    expect(result.stdout).toContain(`\n${exitCodeHelp()}\n`);
  });

  it.for(["simulate", "demo"])("of %s shows an example and exits 0", async (command, context) => {
    const result = await cli(context, [command, "--help"]).exited;
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`^Usage: room-watcher ${command} \\[options\\]`));
    expect(result.stdout).toMatch(/^Examples?:\n {2}\$ room-watcher /m);
  });

  it.for(["wait", "watch"])("of %s shows an example and exits 0", async (command, context) => {
    const result = await cli(context, [command, "--help"]).exited;
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`^Usage: room-watcher ${command} \\[options\\] <roomId>`));
    expect(result.stdout).toMatch(/^Examples?:\n {2}\$ room-watcher /m);
  });
});

const COMMANDS = ["", "wait", "watch", "simulate", "demo", "gateway"] as const;

describe.concurrent("every command's --help", () => {
  it("ends with the one exit-code table, generated from ExitCode (0 and 2 included), the same for all", async (context) => {
    const helps = await Promise.all(COMMANDS.map((command) => cli(context, command === "" ? ["--help"] : [command, "--help"]).exited));
    const table = exitCodeHelp();
    for (const code of Object.values(ExitCode)) expect(table).toMatch(new RegExp(`^  ${code} +${EXIT_CODE_MEANINGS[code].replace(/[()]/g, "\\$&")}$`, "m"));
    for (const [i, help] of helps.entries()) {
      expect({ command: COMMANDS[i], code: help.code, stderr: help.stderr }).toEqual({ command: COMMANDS[i], code: ExitCode.OK, stderr: "" });
      expect(help.stdout.endsWith(`\n${table}\n`)).toBe(true);
      expect(help.stdout.split("Exit codes:")).toHaveLength(2);
    }
  });

  it("shows every default one way, commander's \"(default: X)\"", async (context) => {
    const helps = await Promise.all(COMMANDS.map((command) => cli(context, command === "" ? ["--help"] : [command, "--help"]).exited));
    for (const [i, help] of helps.entries()) {
      // Commander wraps long descriptions: join the lines so a wrapped "(default:\n   500)" reads as one.
      const text = help.stdout.replace(/\s+/g, " ");
      const defaults = text.match(/default\S*/g) ?? [];
      expect({ command: COMMANDS[i], defaults: defaults.filter((d) => d !== "default:") }).toEqual({ command: COMMANDS[i], defaults: [] });
    }
    const waitHelp = helps[1]?.stdout.replace(/\s+/g, " ");
    expect(waitHelp).toContain("--poll-interval <ms> first delay between looks while starting (default: 500)");
    const gatewayHelp = helps[5]?.stdout.replace(/\s+/g, " ");
    // Issue 18: left out, it fits under the descriptor limit, so its default says so.
    expect(gatewayHelp).toContain("--max-connections <n> open connections (default: 20000, or less to fit the descriptor limit)");
    expect(gatewayHelp).toContain(`--lease-ttl <ms> shared mode: how long a room's owner holds it without renewing (default: ${DEFAULT_LEASE_TTL_MS})`);
  });
});

describe.concurrent("input that can never work exits 2 at once, naming the flag", () => {
  const cases: ReadonlyArray<{ args: string[]; flag: string }> = [
    { args: ["simulate", "--port", "99999"], flag: "--port" },
    { args: ["simulate", "--port", "-1"], flag: "--port" },
    { args: ["simulate", "--port", "80.5"], flag: "--port" },
    { args: ["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, "--port", "65536"], flag: "--port" },
    { args: ["simulate", "--time-scale", "0"], flag: "--time-scale" },
    { args: ["demo", "--time-scale", "0"], flag: "--time-scale" },
    { args: ["wait", "r1", "--app-id", APP, "--poll-interval", "0"], flag: "--poll-interval" },
    { args: ["watch", "r1", "--app-id", APP, "--active-poll-interval", "0"], flag: "--active-poll-interval" },
    { args: ["gateway", "--base-url", "ftp://127.0.0.1/", "--app-id", APP], flag: "--base-url" },
    // The old name of --base-url still works, and a message names the flag the user gave.
    { args: ["gateway", "--upstream", "ftp://127.0.0.1/", "--app-id", APP], flag: "--upstream" },
    { args: ["gateway", "--base-url", "http://127.0.0.1:59", "--upstream", "http://127.0.0.1:58", "--app-id", APP], flag: "--upstream is the old name of --base-url" },
    { args: ["gateway", "--app-id", APP], flag: "--base-url" },
    { args: ["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, "--redis", "redis://127.0.0.1:9", "--lease-ttl", "10"], flag: "--lease-ttl" },
    { args: ["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, "--max-in-flight", "0"], flag: "--max-in-flight" },
    { args: ["wait", "r1", "--app-id", "app/../x"], flag: "--app-id" },
    { args: ["wait", "r1", "--provider", "nope"], flag: "--provider" },
    { args: ["gateway", "--provider", "nope"], flag: "--provider" },
    { args: ["simulate", "--provider", "nope"], flag: "--provider" },
  ];
  it.for(cases)("$args.0 $args.1 ... names $flag", async ({ args, flag }, context) => {
    const result = await cli(context, args).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toContain(flag);
    // Neither Node's internals nor the library's option names reach the user.
    expect(result.stderr).not.toMatch(/RangeError|ERR_|[a-z]+Ms\b|leaseTtl|maxInFlight|timeScale|base URL|app id/);
  });

  it("--poll-interval above the library's 2,000 ms cap is a slow poll, not a configuration error", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const result = await cli(context, roomArgs("wait", roomId, sim.url, "--poll-interval", "5000", "--timeout", "300")).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.TIMEOUT, stdout: "" });
    expect(result.stderr).toContain(`room ${roomId} did not become active within 300 ms`);
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(1);
  });
});

describe.concurrent("the token is never printed", () => {
  const unauthorized = (roomId: string): string =>
    `room ${roomId} terminated before it became active: failed: no look at the rooms API succeeded: 1 look failed, the last: HTTP 401: Unauthorized [RW_HTTP]; ${lookedAt(proxy.url, roomId)}`;
  const evidence401 = (roomId: string, message = "HTTP 401: Unauthorized") => ({
    url: `${proxy.url}/rooms/v2/${APP}/connectioninfo/${roomId}`,
    app: APP,
    answeredLooks: 0,
    failedLooks: 1,
    lastError: { name: "HttpError", code: "RW_HTTP", message, status: 401 },
  });

  it.for([
    { via: "HATHORA_TOKEN", json: false },
    { via: "--token", json: false },
    { via: "HATHORA_TOKEN", json: true },
    { via: "--token", json: true },
  ] as const)("wait, token from $via, json $json: a 401 exits 5", async ({ via, json: asJson }, context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 401: 1 } });
    const args = roomArgs("wait", roomId, proxy.url, ...(via === "--token" ? ["--token", TOKEN] : []), ...(asJson ? ["--json"] : []));
    const result = await cli(context, args, via === "HATHORA_TOKEN" ? { env: { HATHORA_TOKEN: TOKEN } } : {}).exited;
    const message = unauthorized(roomId);
    expect(result).toEqual({
      code: ExitCode.DENIED,
      signal: null,
      stdout: asJson
        ? `${JSON.stringify({ ok: false, exitCode: 5, error: { name: "RoomTerminatedError", code: "RW_ROOM_TERMINATED", message, reason: "failed" }, evidence: evidence401(roomId) })}\n`
        : "",
      stderr: `room-watcher: ${message}\n`,
    });
    // The token did go out, so its absence from the output means something.
    expect(proxy.exchanges.filter(ofRoom(roomId)).map((e) => e.authorization)).toEqual([`Bearer ${TOKEN}`]);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it("watch --json: a 401 ends the stream with `failed` and exits 5", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 401: 1 } });
    const result = await cli(context, roomArgs("watch", roomId, proxy.url, "--json"), { env: { HATHORA_TOKEN: TOKEN } }).exited;
    expect(result.code).toBe(ExitCode.DENIED);
    expect(result.stderr).toBe("");
    const events = ndjson(result.stdout);
    expect(events).toEqual([
      { event: "status", roomId, from: "unknown", to: "terminated", at: expect.any(Number) },
      {
        event: "terminated",
        roomId,
        reason: "failed",
        at: expect.any(Number),
        cause: { name: "HttpError", code: "RW_HTTP", message: "HTTP 401: Unauthorized", status: 401 },
        evidence: evidence401(roomId),
      },
    ]);
    expect(proxy.exchanges.filter(ofRoom(roomId)).map((e) => e.authorization)).toEqual([`Bearer ${TOKEN}`]);
    expect(result.stdout).not.toContain(TOKEN);
  });

  describe("when the upstream repeats the token in its error message", () => {
    let echo: Awaited<ReturnType<typeof scriptedServer>>;
    beforeAll(async () => {
      echo = await scriptedServer();
      echo.handle((req, res) => json(res, 401, { message: `token ${req.headers.authorization ?? "-"} is not valid here` }));
    });
    afterAll(async () => {
      await echo.close();
    });

    const message = () =>
      "room echo-room terminated before it became active: failed: no look at the rooms API succeeded: 1 look failed, " +
      `the last: HTTP 401: token Bearer [redacted] is not valid here [RW_HTTP]; looked at ${echo.url}/rooms/v2/${APP}/connectioninfo/echo-room (app ${APP})`;

    for (const asJson of [false, true]) {
      const flags = ["--token", TOKEN, ...(asJson ? ["--json"] : [])];

      it(`wait${asJson ? " --json" : ""} redacts it`, async (context) => {
        const result = await cli(context, roomArgs("wait", "echo-room", echo.url, ...flags)).exited;
        expect(result).toEqual({
          code: ExitCode.DENIED,
          signal: null,
          stdout: asJson
            ? `${JSON.stringify({
                ok: false,
                exitCode: 5,
                error: { name: "RoomTerminatedError", code: "RW_ROOM_TERMINATED", message: message(), reason: "failed" },
                evidence: {
                  ...evidence401("echo-room", "HTTP 401: token Bearer [redacted] is not valid here"),
                  url: `${echo.url}/rooms/v2/${APP}/connectioninfo/echo-room`,
                },
              })}\n`
            : "",
          stderr: `room-watcher: ${message()}\n`,
        });
        expect(echo.requests.map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
      });

      it(`watch${asJson ? " --json" : ""} redacts it`, async (context) => {
        const result = await cli(context, roomArgs("watch", "echo-room", echo.url, ...flags)).exited;
        expect(result.code).toBe(ExitCode.DENIED);
        expect(result.stdout).toContain("HTTP 401: token Bearer [redacted] is not valid here");
        expect(result.stdout + result.stderr).not.toContain(TOKEN);
      });
    }
  });
});

describe("room-watcher simulate", () => {
  it("prints its base URL first, serves the rooms API, and exits 0 on SIGINT", async (context) => {
    const run = cli(context, ["simulate", "--port", "0", "--seed", "3"]);
    const url = await run.line(() => true);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const response = await fetch(`${url}/rooms/v2/app/connectioninfo/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ message: "Room nope not found" });
    run.kill("SIGINT");
    expect(await run.exited).toEqual({
      code: ExitCode.OK,
      signal: null,
      stdout: `${url}\n`,
      stderr: "simulator listening (seed 3, time scale 1, admin token any); Ctrl-C to stop\n",
    });
  });
});

describe("room-watcher watch", () => {
  it("watch --json prints NDJSON: starting (if seen), active at the truth's port, terminated destroyed; exit 3", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const run = cli(context, roomArgs("watch", roomId, sim.url, "--json", "--active-poll-interval", "100"));
    const activeLine = await run.line((line) => line.startsWith('{"event":"active"'));
    const port = activePort(roomId);
    expect(JSON.parse(activeLine)).toMatchObject({ roomId, exposedPort: port, moved: false });
    expect(sim.destroyRoom(APP, roomId)).toBe(true);
    const result = await run.exited;
    expect(result.code).toBe(ExitCode.TERMINATED);
    expect(result.stderr).toBe("");

    const events = ndjson(result.stdout);
    const transitions = events.filter((e) => e.event !== "status");
    const seenStartingFirst = transitions[0]?.event === "starting";
    expect(transitions.map((e) => e.event)).toEqual([...(seenStartingFirst ? ["starting"] : []), "active", "terminated"]);
    if (seenStartingFirst) expect(transitions[0]).toEqual({ event: "starting", roomId, at: expect.any(Number), rescheduled: false });
    expect(transitions.at(-2)).toEqual({
      event: "active",
      roomId,
      exposedPort: port,
      additionalExposedPorts: [expect.objectContaining({ name: "debug" })],
      at: expect.any(Number),
      moved: false,
    });
    expect(transitions.at(-1)).toEqual({
      event: "terminated",
      roomId,
      reason: "destroyed",
      lastConnection: { exposedPort: port, additionalExposedPorts: [expect.objectContaining({ name: "debug" })] },
      at: expect.any(Number),
      evidence: {
        url: `${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`,
        app: APP,
        answeredLooks: expect.any(Number),
        failedLooks: 0,
        lastObservation: "not_found",
      },
    });
    // Status events chain from unknown to terminated, one per change.
    const statuses = events.filter((e) => e.event === "status").map((e) => [e.from, e.to]);
    expect(statuses).toEqual(
      seenStartingFirst
        ? [["unknown", "starting"], ["starting", "active"], ["active", "terminated"]]
        : [["unknown", "active"], ["active", "terminated"]],
    );
  });
});

describe("room-watcher demo", () => {
  // Destroyed-mid-start rooms are destroyed once their watcher has seen them starting, and warm rooms
  // are created as cold processes come up, so the outcome does not depend on how busy the machine is.
  it("demo --json --time-scale 50 exits 0 with every room matching the simulator's truth", async (context) => {
    const result = await cli(context, ["demo", "--json", "--time-scale", "50"], { lifetimeMs: 15_000 }).exited;
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe("");
    const [summary, ...rest] = ndjson(result.stdout);
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({ timedOut: false });
    expect(summary?.rooms).toBeGreaterThanOrEqual(10);
    expect(summary?.matching).toBe(summary?.rooms);
    expect(summary?.results).toHaveLength(summary?.rooms as number);
  });
});

describe("room-watcher simulate --json", () => {
  it("prints its settings and base URL as one JSON line first, and exits 0 on SIGINT", async (context) => {
    const run = cli(context, ["simulate", "--json", "--seed", "4", "--time-scale", "10"]);
    const first = JSON.parse(await run.line(() => true)) as { url: string; port: number };
    expect(first).toEqual({ provider: "hathora", url: `http://127.0.0.1:${first.port}`, port: expect.any(Number), seed: 4, timeScale: 10, appId: null });
    expect((await fetch(`${first.url}/rooms/v2/app/connectioninfo/nope`)).status).toBe(404);
    run.kill("SIGINT");
    const exit = await run.exited;
    expect({ code: exit.code, stdout: exit.stdout }).toEqual({ code: ExitCode.OK, stdout: `${JSON.stringify(first)}\n` });
  });
});

describe("a reader that goes away", () => {
  it("--help into a closed pipe (room-watcher --help | head -0) exits 0, no unhandled EPIPE", async (context) => {
    const run = cli(context, ["--help"]);
    run.child.stdout.destroy();
    const result = await run.exited;
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    expect(result).toMatchObject({ code: ExitCode.OK, signal: null });
  });

  it("watch into a closed pipe stops as if interrupted (exit 130), leaving nothing running", async (context) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    const run = cli(context, roomArgs("watch", roomId, proxy.url, "--poll-interval", "50"));
    // Closed before anything is written: its first event (starting) meets the closed pipe.
    run.child.stdout.destroy();
    const result = await run.exited;
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    expect(result).toMatchObject({ code: ExitCode.INTERRUPTED, signal: null });
  });
});

describe("room-watcher --version", () => {
  it("prints the package's version and exits 0", async (context) => {
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await cli(context, ["--version"]).exited).toEqual({ code: ExitCode.OK, signal: null, stdout: `${version}\n`, stderr: "" });
  });
});

/** A stream as runCli sees it: a terminal or a pipe, recording what is written. */
function recorder(isTTY: boolean) {
  let text = "";
  const waiters = new Set<{ matches: (text: string) => boolean; resolve: () => void }>();
  return {
    isTTY,
    columns: 200,
    write(chunk: string): boolean {
      text += chunk;
      for (const waiter of [...waiters]) {
        if (waiter.matches(text)) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
      return true;
    },
    get text(): string {
      return text;
    },
    /** Resolves once what was written so far matches. */
    until(matches: (text: string) => boolean): Promise<void> {
      if (matches(text)) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ matches, resolve }));
    },
  };
}

const CLEAR_LINE = "\r\u001b[2K";
const DIM = "\u001b[2m";
/** Any SGR escape: colour, dim, bold. (Clearing a line, \u001b[2K, is not one.) */
// eslint-disable-next-line no-control-regex -- escape sequences are what this test looks for
const SGR = /\u001b\[\d+(;\d+)*m/;

function inProcess(env: Record<string, string>, terminal: { stdout: boolean; stderr: boolean }) {
  const stdout = recorder(terminal.stdout);
  const stderr = recorder(terminal.stderr);
  return { stdout, stderr, io: { stdout, stderr, env, signal: new AbortController().signal } };
}

describe("on a terminal (runCli in process, streams that say they are TTYs)", () => {
  it.for([
    { env: {}, colour: true },
    { env: { NO_COLOR: "1" }, colour: false },
    { env: { TERM: "dumb" }, colour: false },
  ])("wait shows a live progress line on stderr, cleared before the answer; colour $colour with $env", async ({ env, colour }) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const { stdout, stderr, io } = inProcess(env, { stdout: true, stderr: true });
    const code = await runCli(roomArgs("wait", roomId, sim.url), io);
    expect(code).toBe(ExitCode.OK);
    expect(stdout.text).toBe(`${hostPort(activePort(roomId))}\n`);
    expect(stderr.text.startsWith(CLEAR_LINE)).toBe(true);
    expect(stderr.text.endsWith(CLEAR_LINE)).toBe(true);
    expect(stderr.text.includes(DIM)).toBe(colour);
    const frames = stderr.text
      .split(CLEAR_LINE)
      .filter((frame) => frame !== "")
      .map((frame) => frame.replace(new RegExp(SGR, "g"), ""));
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) {
      // Never "terminated": the line is silenced before its watcher is stopped after a successful wait.
      expect(frame).toMatch(new RegExp(`^waiting for room ${roomId}: (looking|unknown|starting|active)( · [^\\n]*)? · \\d+\\.\\d s$`));
    }
  });

  it("wait: nothing extra on stderr when it is not a terminal, even when stdout is", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const { stdout, stderr, io } = inProcess({}, { stdout: true, stderr: false });
    expect(await runCli(roomArgs("wait", roomId, sim.url), io)).toBe(ExitCode.OK);
    expect(stdout.text).toBe(`${hostPort(activePort(roomId))}\n`);
    expect(stderr.text).toBe("");
  });

  it.for([
    { env: {}, tty: true, colour: true },
    { env: { NO_COLOR: "1" }, tty: true, colour: false },
    { env: {}, tty: false, colour: false },
  ])("watch colours event names only on a terminal without NO_COLOR ($env, tty $tty)", async ({ env, tty, colour }) => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const { stdout, io } = inProcess(env, { stdout: tty, stderr: tty });
    const exited = runCli(roomArgs("watch", roomId, sim.url, "--active-poll-interval", "50"), io);
    await stdout.until((text) => / active {4}/.test(text.replace(new RegExp(SGR, "g"), "")));
    const where = hostPort(activePort(roomId));
    expect(sim.destroyRoom(APP, roomId)).toBe(true);
    expect(await exited).toBe(ExitCode.TERMINATED);
    expect(SGR.test(stdout.text)).toBe(colour);
    if (colour) {
      expect(stdout.text).toContain(`\u001b[32mactive    \u001b[39m ${roomId}  ${where}`);
      expect(stdout.text).toContain(`\u001b[31mterminated\u001b[39m ${roomId}  destroyed`);
    } else {
      expect(stdout.text).toContain(` active     ${roomId}  ${where}`);
    }
  });

  it.for([
    { env: {}, colour: true },
    { env: { NO_COLOR: "1" }, colour: false },
  ])("an error's prefix is red on a terminal's stderr unless NO_COLOR ($env)", async ({ env, colour }) => {
    const { roomId } = sim.createRoom(APP, { scenario: "never" });
    sim.setRoomFaults(roomId, { errorRates: { 403: 1 } });
    const { stdout, stderr, io } = inProcess(env, { stdout: true, stderr: true });
    expect(await runCli(roomArgs("wait", roomId, sim.url), io)).toBe(ExitCode.DENIED);
    expect(stdout.text).toBe("");
    const message = `room ${roomId} terminated before it became active: failed: no look at the rooms API succeeded: 1 look failed, the last: HTTP 403: Forbidden [RW_HTTP]; ${lookedAt(sim.url, roomId)}\n`;
    expect(stderr.text.endsWith(`${CLEAR_LINE}${colour ? "\u001b[31mroom-watcher:\u001b[39m" : "room-watcher:"} ${message}`)).toBe(true);
    expect(SGR.test(stderr.text)).toBe(colour);
  });
});
