/**
 * A known token (a canary) fed through every path that can reach it without the gateway: the HTTP and
 * SDK sources, RoomWatcher and waitForActive errors and event payloads, the fleet's events, util.inspect
 * and JSON.stringify of sources, watchers, fleets and errors, and the built CLI's output. The upstream
 * misbehaves on purpose: it echoes the Authorization header (or the token) in error messages, in bodies
 * that are not JSON, in fields of a 200 body, and across the 500-character cut of an error message.
 * Nothing may carry the token, or any large piece of it, anywhere.
 */
import { inspect } from "node:util";
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { HathoraSdkSource } from "../../src/sdk.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { type CliExit, killAllCli, spawnCli } from "../helpers/cli-process.js";
import { type Handler, json, scriptedServer } from "../helpers/http-server.js";

const TOKEN = "tok_LEAK_CANARY_7c1e";
/** Pieces of the token: a leak of any large part of it (a cut message, say) is still a leak. */
const NEEDLES = [TOKEN, "tok_LEAK", "LEAK_CANARY", "CANARY_7c1e"];
const APP = "app-leak";
const ROOM = "room-leak";
const fast = { pollIntervalMs: 10, maxPollIntervalMs: 20, activePollIntervalMs: 20, initialRetryDelayMs: 5, maxRetryDelayMs: 10, maxRetryAfterMs: 10 };

/** Every way a value gets written out: inspect (hidden properties, causes), JSON, String, each cause's message and stack. */
function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 20, showHidden: true, getters: false, maxArrayLength: null, maxStringLength: null, breakLength: Number.POSITIVE_INFINITY })];
  try {
    out.push(JSON.stringify(value) ?? "");
  } catch (error) {
    out.push(String(error));
  }
  if (typeof value === "string") out.push(value);
  let cause: unknown = value;
  for (let depth = 0; depth < 10 && cause instanceof Error; depth++) {
    out.push(String(cause), cause.message, cause.stack ?? "");
    cause = cause.cause;
  }
  return out;
}

function expectNoToken(label: string, ...values: unknown[]): void {
  for (const value of values) {
    for (const text of renderings(value)) {
      const found = NEEDLES.find((needle) => text.includes(needle));
      if (found !== undefined) {
        const at = text.indexOf(found);
        throw new Error(`${label}: the token (${found}) leaked: …${text.slice(Math.max(0, at - 200), at + 100)}…`);
      }
    }
  }
}

let server: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  server = await scriptedServer();
});
afterAll(async () => {
  await killAllCli();
  await server.close();
});

/** What the upstream echoes: the header it got, or the token itself when the client sent none (the SDK). */
const echoOf = (req: Parameters<Handler>[0]): string => req.headers.authorization ?? `Bearer ${TOKEN}`;
const activeBody = (overrides: Record<string, unknown> = {}) => ({
  additionalExposedPorts: [],
  exposedPort: { host: "10.0.0.1", port: 4000, transportType: "udp", name: "default" },
  status: "active",
  roomId: ROOM,
  ...overrides,
});

/** `first` for the first `times` requests, then a terminal 401, so a watch that retries still ends. */
function thenUnauthorized(times: number, first: Handler): Handler {
  let calls = 0;
  return (req, res) => (calls++ < times ? first(req, res) : json(res, 401, { message: "no" }));
}

/** Misbehaving upstreams (a fresh one per use: some count requests), each ending the watch after what it echoes. */
const UPSTREAMS: Record<string, () => Handler> = {
  "401 echoing the header": () => (req, res) => json(res, 401, { message: `unauthorized: ${echoOf(req)}` }),
  "403 echoing the header": () => (req, res) => json(res, 403, { message: `forbidden for ${echoOf(req)}` }),
  "400 with the header past the 500-character cut": () => (req, res) => json(res, 400, { message: `${"x".repeat(490)}${echoOf(req)}` }),
  "500 echoing the header, then 401": () => thenUnauthorized(2, (req, res) => json(res, 500, { message: `upstream error, request had ${echoOf(req)}` })),
  "429 echoing the header, then 401": () => thenUnauthorized(2, (req, res) => json(res, 429, { message: `slow down ${echoOf(req)}` }, { "retry-after": "0" })),
  "200 that is not JSON and echoes the header": () => (req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`proxy debug: you sent ${echoOf(req)}`),
  "200 whose roomId is the header": () => (req, res) => json(res, 200, activeBody({ roomId: echoOf(req) })),
  "200 whose status is the header, then 401": () => thenUnauthorized(2, (req, res) => json(res, 200, activeBody({ status: echoOf(req) }))),
  "200 active on a host named after the header": () => (req, res) =>
    json(res, 200, activeBody({ exposedPort: { host: echoOf(req), port: 4000, transportType: echoOf(req), name: echoOf(req) } })),
  "a dropped connection, then 401": () => thenUnauthorized(2, (_req, res) => res.socket?.destroy()),
};

/** Watches ROOM through `source` on a fleet of its own and records everything the watcher and fleet say. */
async function watchThrough(source: HathoraHttpSource | HathoraSdkSource) {
  const fleet = new Fleet({ ...fast, maxRequestsPerSecond: Number.POSITIVE_INFINITY });
  const heard: unknown[] = [];
  const names = ["status", "starting", "active", "terminated", "error", "warning"] as const;
  for (const name of names) fleet.on(name, (e: unknown) => heard.push(e));
  fleet.on("paused", (e) => heard.push(e));
  const watcher = new RoomWatcher({ roomId: ROOM, source, fleet, timeoutMs: 5_000, ...fast });
  for (const name of names) watcher.on(name, (e: unknown) => heard.push(e));
  const ended = new Promise((resolve) => {
    watcher.once("terminated", resolve);
    watcher.once("active", resolve);
  });
  watcher.start();
  await ended;
  const waited = await waitForActive({ roomId: ROOM, source, fleet, timeoutMs: 5_000, ...fast }).catch((error: unknown) => error);
  await watcher.stop();
  await fleet.close();
  return { heard, waited, watcher, fleet };
}

describe("HathoraHttpSource: errors, events, inspect", () => {
  it.each(Object.keys(UPSTREAMS))("%s", async (name) => {
    server.handle((UPSTREAMS[name] as () => Handler)());
    const before = server.requests.length;
    const source = new HathoraHttpSource({ appId: APP, baseUrl: server.url, token: TOKEN });
    const { heard, waited, watcher, fleet } = await watchThrough(source);
    // The token did go out, so its absence from everything below means something.
    expect(server.requests.slice(before).map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
    expect(heard.length).toBeGreaterThan(0);
    expectNoToken("an event payload", ...heard);
    expectNoToken("waitForActive's outcome", waited);
    expectNoToken("the watcher", watcher, watcher.state);
    expectNoToken("the fleet", fleet, fleet.stats);
    expectNoToken("the source", source, source.key);
    // And one look, raw: the source's own error or result.
    const raw = await source.poll(ROOM, { signal: new AbortController().signal }).catch((error: unknown) => error);
    expectNoToken("the source's poll", raw);
  });
});

describe("HathoraSdkSource: errors, events, inspect", () => {
  it.each(Object.keys(UPSTREAMS))("%s", async (name) => {
    server.handle((UPSTREAMS[name] as () => Handler)());
    const source = new HathoraSdkSource({ client: new HathoraCloud({ serverURL: server.url, appId: APP, hathoraDevToken: TOKEN }) });
    const { heard, waited, watcher, fleet } = await watchThrough(source);
    expectNoToken("an event payload", ...heard);
    expectNoToken("waitForActive's outcome", waited);
    expectNoToken("the watcher", watcher, watcher.state);
    expectNoToken("the fleet", fleet);
    expectNoToken("the source", source, source.key);
    const raw = await source.poll(ROOM, { signal: new AbortController().signal }).catch((error: unknown) => error);
    expectNoToken("the source's poll", raw);
  });
});

describe("objects that hold the token", () => {
  it("sources, fleets and watchers built with a token never show it", () => {
    const source = new HathoraHttpSource({ appId: APP, baseUrl: server.url, token: TOKEN });
    const fleet = new Fleet({ appId: APP, baseUrl: server.url, token: TOKEN });
    const watcher = new RoomWatcher({ roomId: ROOM, appId: APP, baseUrl: server.url, token: TOKEN, fleet });
    const sdk = new HathoraSdkSource({ client: new HathoraCloud({ serverURL: server.url, appId: APP, hathoraDevToken: TOKEN }) });
    expectNoToken("objects", source, fleet, watcher, watcher.source, sdk, source.key, sdk.key);
  });

  it("a base URL carrying the token as credentials is refused without repeating it, valid or not", () => {
    for (const baseUrl of [`https://user:${TOKEN}@api.example`, `https://${TOKEN}@api.example/`, `http://user:${TOKEN}@`, `http://${TOKEN}@[::1`, `ftp://user:${TOKEN}@host`]) {
      let error: unknown;
      try {
        new HathoraHttpSource({ appId: APP, baseUrl });
      } catch (caught) {
        error = caught;
      }
      expect(error, baseUrl).toBeInstanceOf(ConfigError);
      expectNoToken(`the ConfigError for ${baseUrl}`, error);
    }
  });
});

describe.concurrent("the CLI", () => {
  const ways = [
    { via: "--token", json: false },
    { via: "--token", json: true },
    { via: "HATHORA_TOKEN", json: false },
    { via: "HATHORA_TOKEN", json: true },
  ] as const;
  type Way = (typeof ways)[number];
  /** Every way runs a success, a terminal error and a retried one; two ways run every other upstream too. */
  const runs: Array<{ way: Way; command: "wait" | "watch"; upstream: string; exitCode: number }> = [
    ...ways.flatMap((way) => [
      { way, command: "wait" as const, upstream: "200 active on a host named after the header", exitCode: 0 },
      { way, command: "wait" as const, upstream: "401 echoing the header", exitCode: 5 },
      { way, command: "watch" as const, upstream: "500 echoing the header, then 401", exitCode: 5 },
    ]),
    ...[ways[1], ways[2]].flatMap((way) => [
      { way, command: "wait" as const, upstream: "200 that is not JSON and echoes the header", exitCode: 1 },
      { way, command: "wait" as const, upstream: "400 with the header past the 500-character cut", exitCode: 1 },
      { way, command: "wait" as const, upstream: "429 echoing the header, then 401", exitCode: 5 },
      { way, command: "watch" as const, upstream: "200 whose status is the header, then 401", exitCode: 5 },
      // An active room is watched until Ctrl-C: interrupted once it has printed the active event.
      { way, command: "watch" as const, upstream: "200 active on a host named after the header", exitCode: 130 },
    ]),
  ];

  const expectClean = (label: string, result: CliExit): void => {
    expectNoToken(`${label} stdout`, result.stdout);
    expectNoToken(`${label} stderr`, result.stderr);
  };

  it.for(runs)("$command, token from $way.via, json $way.json: $upstream", async ({ way, command, upstream, exitCode }, context) => {
    // A server of its own: the runs go concurrently.
    const own = await scriptedServer();
    context.onTestFinished(() => own.close());
    own.handle((UPSTREAMS[upstream] as () => Handler)());
    const args = [
      command,
      ROOM,
      "--app-id",
      APP,
      "--base-url",
      own.url,
      "--timeout",
      "5000",
      "--poll-interval",
      "10",
      ...(way.via === "--token" ? ["--token", TOKEN] : []),
      ...(way.json ? ["--json"] : []),
    ];
    const run = spawnCli(args, { env: way.via === "HATHORA_TOKEN" ? { HATHORA_TOKEN: TOKEN } : {} });
    context.onTestFinished(async () => {
      run.kill();
      await run.exited;
    });
    if (exitCode === 130) {
      await run.line((l) => l.includes("active"));
      run.kill("SIGINT");
    }
    const result = await run.exited;
    // The token did go out, so its absence from the output means something.
    expect(own.requests.map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
    expect(result.code, `${result.stdout} ${result.stderr}`).toBe(exitCode);
    expectClean(`${command} on ${upstream}`, result);
  });

  it("simulate --token and SIMULATOR_TOKEN never print it", async (context) => {
    await Promise.all(
      ([
        [["simulate", "--token", TOKEN, "--json"], {}],
        [["simulate", "--token", TOKEN], {}],
        [["simulate"], { SIMULATOR_TOKEN: TOKEN }],
      ] as const).map(async ([args, env]) => {
        const run = spawnCli(args, { env });
        context.onTestFinished(() => run.kill());
        await run.line((l) => l.includes("http://127.0.0.1:"));
        run.kill("SIGINT");
        const result = await run.exited;
        expect(result.code).toBe(0);
        expect(result.stderr).toContain("admin token set");
        expectClean(`simulate ${args.join(" ")}`, result);
      }),
    );
  });

  it("a base URL with the token in it is a usage error that does not repeat it", async (context) => {
    const urls = [`http://user:${TOKEN}@127.0.0.1:1`, `http://user:${TOKEN}@`];
    await Promise.all(
      urls.flatMap((baseUrl) =>
        [false, true].map(async (asJson) => {
          const run = spawnCli(["wait", ROOM, "--app-id", APP, "--base-url", baseUrl, ...(asJson ? ["--json"] : [])]);
          context.onTestFinished(() => run.kill());
          const result = await run.exited;
          expect(result.code).toBe(2);
          expectClean(`wait --base-url ${baseUrl}`, result);
        }),
      ),
    );
  });
});
