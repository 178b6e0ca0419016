/**
 * The gateway in front of Agones: its upstream is one namespace watch (a push source), so however many
 * rooms and clients there are, the fake Kubernetes API sees one list and one watch; clients hear each
 * GameServer become active and end in Agones' own words, with the protocol unchanged. And the CLI:
 * `gateway --provider agones` serves `wait --gateway`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { Gateway } from "../../src/gateway/server.js";
import { kubeTransport } from "../../src/providers/agones/kube-transport.js";
import { AgonesSource } from "../../src/providers/agones/source.js";
import { AgonesSimulator } from "../../src/simulator/agones/simulator.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import type { TerminatedEvent } from "../../src/watch/events.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { cliForTest, killAllCli } from "../helpers/cli-process.js";

let simulator: AgonesSimulator;

beforeAll(async () => {
  simulator = await AgonesSimulator.start({ seed: 5, timeScale: 50 });
});
afterAll(async () => {
  void killAllCli();
  await simulator.close();
});

describe("a gateway whose upstream is an Agones namespace watch", () => {
  it("serves three rooms to two clients from one list and one watch, and passes on how each ended", async (context) => {
    const lists = simulator.requestCount("list");
    const watches = simulator.requestCount("watch");
    const gateway = await Gateway.start({ source: new AgonesSource({ transport: await kubeTransport({ kubeconfig: simulator.kubeconfigPath }) }) });
    const fleets = [new Fleet(), new Fleet()];
    context.onTestFinished(async () => {
      await Promise.all(fleets.map((f) => f.close()));
      await gateway.close();
    });
    const sources = [new WebSocketSource({ url: gateway.url }), new WebSocketSource({ url: gateway.url })];
    const names = [0, 1, 2].map(() => simulator.createGameServer({ scenario: "ready" }).metadata.name ?? "");
    const connections = await Promise.all(
      names.flatMap((roomId) => sources.map((source, i) => waitForActive({ roomId, source, fleet: fleets[i], timeoutMs: 15_000 }))),
    );
    for (const [i, connection] of connections.entries()) {
      const live = simulator.gameServer(names[Math.floor(i / 2)] ?? "");
      expect(connection.exposedPort).toMatchObject({ host: live?.status?.address, port: live?.status?.ports?.[0]?.port });
    }
    expect({ lists: simulator.requestCount("list") - lists, watches: simulator.requestCount("watch") - watches }).toEqual({ lists: 1, watches: 1 });
    // A push upstream sends no request per room.
    expect(gateway.stats.upstreamRequests).toBe(0);

    // A GameServer that shuts down once a client has seen it: every client hears Agones' own word for it.
    const doomed = simulator.createGameServer({ scenario: "ready" }).metadata.name ?? "";
    const watcher = new RoomWatcher({ roomId: doomed, source: sources[0], fleet: fleets[0], timeoutMs: 15_000 });
    const seen = new Promise((resolve) => watcher.once("status", resolve));
    const ended = new Promise<TerminatedEvent>((resolve) => watcher.once("terminated", resolve));
    watcher.start();
    await seen;
    expect(simulator.shutdown(doomed)).toBe(true);
    expect(await ended).toMatchObject({ reason: "shutdown", hostState: "Shutdown" });
    await watcher.stop();
  });
});

describe("room-watcher gateway --provider agones", () => {
  it("serves wait --gateway --provider agones for a GameServer: the player needs no kubeconfig", async (context) => {
    const gateway = cliForTest(context, ["gateway", "--provider", "agones", "--kubeconfig", simulator.kubeconfigPath], { lifetimeMs: 20_000 });
    const url = await gateway.line(() => true);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const name = simulator.createGameServer({ scenario: "ready" }).metadata.name ?? "";
    const wait = await cliForTest(context, ["wait", name, "--provider", "agones", "--gateway", url, "--json"], { lifetimeMs: 20_000 }).exited;
    const live = simulator.gameServer(name);
    expect(wait.code).toBe(ExitCode.OK);
    expect(JSON.parse(wait.stdout)).toMatchObject({ ok: true, roomId: name, exposedPort: { host: live?.status?.address, port: live?.status?.ports?.[0]?.port } });
    gateway.kill("SIGTERM");
    expect((await gateway.exited).code).toBe(ExitCode.OK);
  });
});
