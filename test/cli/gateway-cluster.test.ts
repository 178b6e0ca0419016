/**
 * `room-watcher gateway --redis <url>` as a user runs it: two CLI gateways (child processes) on one
 * password-protected redis-server and the real simulator share one upstream watch per room, say so at
 * /healthz and /metrics, and shut down cleanly. The Redis password reaches neither stdout nor stderr,
 * whether it was given as a flag or in the environment, and whether Redis accepted it or not.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SnapshotMessage, UpdateMessage } from "../../src/protocol/messages.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { type CliProcess, killAllCli, spawnCli } from "../helpers/cli-process.js";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.js";
import { connectRaw } from "../helpers/ws-client.js";

const APP = "app-cluster-cli";
const PASSWORD = "cl1-redis-s3cret";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
});
afterAll(async () => {
  await redis.stop();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killAllCli();
});

interface Health {
  status: string;
  rooms: number;
  ownedRooms: number;
  instanceId?: string;
  redis?: string;
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url.replace(/^ws:/, "http:")}/healthz`)).json()) as Health;
}

function expectNoSecret(run: { stdout: string; stderr: string }): void {
  expect(run.stdout).not.toContain(PASSWORD);
  expect(run.stderr).not.toContain(PASSWORD);
  expect(run.stderr).not.toContain(encodeURIComponent(PASSWORD));
}

describe("room-watcher gateway --redis (CLI)", () => {
  it("two gateways on one Redis share each room's watch; the password is never printed or logged", async () => {
    const simulator = await Simulator.start({ seed: 41, timeScale: 50, appId: APP });
    cleanups.push(() => simulator.close());
    const common = ["gateway", "--base-url", simulator.url, "--app-id", APP, "--lease-ttl", "1000", "--log-level", "debug"];
    // One is given the URL as a flag, the other in the environment.
    const first = spawnCli([...common, "--redis", redis.url, "--instance-id", "cli-a"], { lifetimeMs: 20_000 });
    const second = spawnCli([...common, "--instance-id", "cli-b"], { lifetimeMs: 20_000, env: { ROOM_WATCHER_REDIS_URL: redis.url } });
    const urls = await Promise.all([first, second].map((cli) => cli.line(() => true)));
    for (const url of urls) expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

    // One room, a subscriber on each gateway: each gets the room as it is, then its change.
    const { roomId } = simulator.createRoom(APP, { scenario: "cold" });
    const subscribers = await Promise.all(urls.map((url) => connectRaw(url)));
    cleanups.push(async () => {
      for (const s of subscribers) s.ws.terminate();
      await Promise.all(subscribers.map((s) => s.closed));
    });
    subscribers[0]?.send({ type: "subscribe", roomId });
    await subscribers[0]?.next<SnapshotMessage>((m) => m.type === "snapshot");
    subscribers[1]?.send({ type: "subscribe", roomId });
    await subscribers[1]?.next<SnapshotMessage>((m) => m.type === "snapshot");
    const active = await Promise.all(
      subscribers.map((s) => s.next<UpdateMessage>((m) => m.type === "update" && m.result.observation.kind === "active")),
    );
    expect(active[0]).toEqual(active[1]);

    // The first gateway watches the room upstream; the second follows it.
    const [a, b] = await Promise.all(urls.map((url) => health(url)));
    expect(a).toMatchObject({ status: "ok", rooms: 1, ownedRooms: 1, instanceId: "cli-a", redis: "up" });
    expect(b).toMatchObject({ status: "ok", rooms: 1, ownedRooms: 0, instanceId: "cli-b", redis: "up" });
    const metrics = await (await fetch(`${urls[1]?.replace(/^ws:/, "http:")}/metrics`)).text();
    expect(metrics).toMatch(/^room_watcher_gateway_rooms_owned 0$/m);
    expect(metrics).toMatch(/^room_watcher_gateway_redis_connected 1$/m);

    // SIGTERM: each exits 0, having printed its URL and nothing else, and logged no password.
    const exits = await Promise.all(
      [first, second].map((cli: CliProcess) => {
        cli.kill("SIGTERM");
        return cli.exited;
      }),
    );
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    expect(exits.map((e) => e.stdout)).toEqual(urls.map((url) => `${url}\n`));
    for (const exit of exits) {
      expectNoSecret(exit);
      const logs = exit.stderr.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; redis?: string });
      expect(logs.find((l) => l.msg === "shared mode: rooms are shared through Redis")?.redis).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(logs.at(-1)?.msg).toBe("gateway closed");
    }
  });

  it("refuses to start on a wrong password, an unreachable Redis or a bad --redis, printing nothing on stdout and no password", async () => {
    const cases: Array<[name: string, flags: string[], env: Record<string, string>, code: number, message: RegExp]> = [
      ["a wrong password (flag)", ["--redis", redis.url.replace(encodeURIComponent(PASSWORD), `x${PASSWORD}`)], {}, 1, /could not reach Redis at redis:\/\/127\.0\.0\.1:\d+: WRONGPASS/],
      ["a wrong password (environment)", [], { ROOM_WATCHER_REDIS_URL: `redis://:x${PASSWORD}@127.0.0.1:${redis.port}` }, 1, /WRONGPASS/],
      ["nobody listening", ["--redis", `redis://:${PASSWORD}@127.0.0.1:1`], {}, 1, /could not reach Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/],
      ["not a Redis URL", ["--redis", `http://:${PASSWORD}@127.0.0.1:1`], {}, 2, /--redis must be redis: or rediss:, not http:/],
      ["not a URL at all", ["--redis", `:${PASSWORD}@nowhere`], {}, 2, /^room-watcher: --redis must be a redis:\/\/ or rediss:\/\/ URL/],
      ["a lease too short", ["--redis", redis.url, "--lease-ttl", "10"], {}, 2, /--lease-ttl must be at least 300/],
      ["shared-mode flags without --redis", ["--lease-ttl", "5000", "--instance-id", "gw-1"], {}, 2, /--lease-ttl and --instance-id need --redis/],
    ];
    const runs = await Promise.all(cases.map(([, flags, env]) => spawnCli(["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", APP, ...flags], { env }).exited));
    runs.forEach((run, i) => {
      const [name, , , code, message] = cases[i]!;
      expect(run.code, name).toBe(code);
      expect(run.stdout, name).toBe("");
      expect(run.stderr, name).toMatch(message);
      expectNoSecret(run);
    });
  });

  it("explains shared mode in --help, with an example", async () => {
    const run = await spawnCli(["gateway", "--help"]).exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--redis <url>\s+shared mode/);
    expect(run.stdout).toMatch(/--lease-ttl <ms>/);
    expect(run.stdout).toMatch(/--instance-id <id>/);
    expect(run.stdout).toContain("ROOM_WATCHER_REDIS_URL");
    expect(run.stdout).toMatch(/room-watcher gateway .* --redis redis:\/\/127\.0\.0\.1:6379/);
  });
});
