/**
 * The Agones library against the fake Agones API, for real: AgonesSource over kubeTransport (HTTPS, the
 * simulator's CA and token from the kubeconfig it wrote), through RoomWatcher, waitForActive and a Fleet.
 * No mock anywhere; waits are on events (the simulator's transitions, the watchers'), never on sleeps.
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getActiveResourcesInfo } from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { AccessDeniedError, ConfigError, RoomTerminatedError } from "../../../src/core/errors.js";
import type { PollResult } from "../../../src/core/observation.js";
import { AgonesSource, type AgonesSourceOptions } from "../../../src/providers/agones/source.js";
import { kubeTransport } from "../../../src/providers/agones/kube-transport.js";
import { AgonesSimulator, type AgonesSimulatorOptions } from "../../../src/simulator/agones/simulator.js";
import type { RoomWatcherEvents, TerminatedEvent } from "../../../src/watch/events.js";
import { Fleet } from "../../../src/watch/fleet.js";
import { RoomWatcher } from "../../../src/watch/room-watcher.js";
import { waitForActive } from "../../../src/watch/wait-for-active.js";
import { resourcesLeftAfter } from "../../helpers/resources.js";
import { conditions, failure } from "../../helpers/waiting.js";

const TOKEN = "kube-token-DO-NOT-LEAK-5f1c9e";
const EVENTS = ["starting", "active", "terminated", "error", "status", "warning"] as const satisfies readonly (keyof RoomWatcherEvents)[];

interface Cluster {
  readonly sim: AgonesSimulator;
  readonly source: AgonesSource;
  readonly fleet: Fleet;
  /** Every event of every watcher, as emitted. */
  readonly log: { readonly type: string; readonly event: unknown }[];
  readonly until: (done: () => boolean) => Promise<void>;
  watch(roomId: string, options?: { notFoundGraceMs?: number }): RoomWatcher;
  /** Resolves once the source's stream has delivered everything the simulator did up to now (a marker object sent after it). */
  caughtUp(): Promise<void>;
}

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

let markers = 0;

async function cluster(simOptions: AgonesSimulatorOptions = {}, sourceOptions: Partial<AgonesSourceOptions> = {}): Promise<Cluster> {
  const changed = conditions();
  // Bookmarks every simulated second (10 real ms) keep a healthy watch from looking stalled to a small watchdog.
  const sim = await AgonesSimulator.start({ seed: 7, timeScale: 100, token: TOKEN, bookmarkIntervalMs: 1_000, onTransition: () => changed.notify(), onRequest: () => changed.notify(), ...simOptions });
  const transport = await kubeTransport({ kubeconfig: sim.kubeconfigPath });
  const source = new AgonesSource({ transport, namespace: sim.namespace, initialRetryDelayMs: 20, maxRetryDelayMs: 200, ...sourceOptions });
  const fleet = new Fleet({ source });
  const watchers: RoomWatcher[] = [];
  running.push(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await fleet.close();
    await source.close();
    await sim.close();
  });
  const log: { type: string; event: unknown }[] = [];
  return {
    sim,
    source,
    fleet,
    log,
    until: changed.until,
    watch(roomId, options = {}) {
      const watcher = new RoomWatcher({ roomId, source, fleet, timeoutMs: 20_000, ...options });
      for (const type of EVENTS) {
        watcher.on(type, (event: unknown) => {
          log.push({ type, event });
          changed.notify();
        });
      }
      watchers.push(watcher);
      return watcher.start();
    },
    async caughtUp() {
      // A marker created now comes down the stream after every change before it: once the source tells its
      // room anything but not_found, everything earlier has been applied.
      const name = `marker-${++markers}`;
      let heard = false;
      const sub = source.subscribe(name, {
        onResult: (result: PollResult) => {
          if (result.observation.kind !== "not_found") heard = true;
          changed.notify();
        },
        onTransientFailure: () => {},
        onFatal: () => {},
      });
      sim.createGameServer({ name, scenario: "error" });
      await changed.until(() => heard);
      await sub.unsubscribe();
    },
  };
}

const stateOf = (sim: AgonesSimulator, name: string) => sim.truth(name)?.state;
const terminated = (c: Cluster, roomId: string) => c.log.find((e) => e.type === "terminated" && (e.event as TerminatedEvent).roomId === roomId)?.event as TerminatedEvent | undefined;
const untilTerminated = async (c: Cluster, roomId: string): Promise<TerminatedEvent> => {
  await c.until(() => terminated(c, roomId) !== undefined);
  return terminated(c, roomId) as TerminatedEvent;
};
const untilActive = (c: Cluster, watcher: RoomWatcher) => c.until(() => watcher.status === "active");

describe("AgonesSource over HTTPS against AgonesSimulator", () => {
  it("two rooms in one namespace share one list and one watch; each turns active with the GameServer's address, port and protocol (TCPUDP as its two halves)", async () => {
    const before = getActiveResourcesInfo();
    const c = await cluster();
    // The rooms are not found until their servers exist: the not-found grace is the wait's own deadline.
    const activeOf = (roomId: string) => waitForActive({ roomId, source: c.source, fleet: c.fleet, timeoutMs: 20_000, notFoundGraceMs: 20_000 });
    const actives = Promise.all([activeOf("gs-udp"), activeOf("gs-both")]);
    // The servers are created once the watch is asked for (so after the list was applied): each room can only
    // turn active over that watch. Servers Ready in the list would turn both active from it, and the source,
    // left without rooms, would rightly stop before it watched.
    await c.until(() => c.sim.requestCount("watch") > 0);
    c.sim.createGameServer({ name: "gs-udp", scenario: "ready" });
    c.sim.createGameServer({ name: "gs-both", scenario: "ready", ports: [{ name: "game", protocol: "TCPUDP" }] });
    const [udp, both] = await actives;
    expect(c.sim.requestCount("list")).toBe(1);
    expect(c.sim.requestCount("watch")).toBe(1);
    expect(c.sim.requestCount("get")).toBe(0);
    expect(c.sim.connectionStats().connections).toBeLessThanOrEqual(2);

    const udpObject = c.sim.gameServer("gs-udp");
    const udpPort = udpObject?.status.ports?.[0];
    expect(udpObject?.status.state).toBe("Ready");
    expect(udp.exposedPort).toEqual({ host: udpObject?.status.address, port: udpPort?.port, transportType: "udp", name: "default" });
    expect(udp.additionalExposedPorts).toEqual([]);

    const bothObject = c.sim.gameServer("gs-both");
    const ports = bothObject?.status.ports ?? [];
    expect(ports.map((p) => p.name)).toEqual(["game-tcp", "game-udp"]);
    const host = bothObject?.status.address;
    expect(both.exposedPort).toEqual({ host, port: ports[0]?.port, transportType: "tcp", name: "game-tcp" });
    expect(both.additionalExposedPorts).toEqual([{ host, port: ports[1]?.port, transportType: "udp", name: "game-udp" }]);

    for (const stop of running.splice(0)) await stop();
    expect(c.source.watching).toBe(false);
    expect(c.source.pendingTimers).toBe(0);
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it('activeWhen "Allocated": a Ready server stays starting until it is allocated', async () => {
    const c = await cluster({}, { activeWhen: "Allocated" });
    c.sim.createGameServer({ name: "gs-alloc", scenario: "ready" });
    const watcher = c.watch("gs-alloc");
    await c.until(() => stateOf(c.sim, "gs-alloc") === "Ready");
    await c.caughtUp();
    expect(watcher.status).toBe("starting");
    expect(c.sim.allocate()?.metadata.name).toBe("gs-alloc");
    await untilActive(c, watcher);
    expect(stateOf(c.sim, "gs-alloc")).toBe("Allocated");
    expect(c.log.filter((e) => e.type === "active")).toHaveLength(1);
  });

  it("activeWhen a label: allocated is not enough; active once the game sets agones.dev/sdk-loaded (the match is loaded)", async () => {
    // The simulator's game sets the label loadMs after allocation: long enough here to be seen without it.
    const c = await cluster({ loadMs: [60_000, 60_000] }, { activeWhen: { label: "loaded", value: "true" } });
    c.sim.createGameServer({ name: "gs-label", scenario: "ready" });
    const watcher = c.watch("gs-label");
    await c.until(() => stateOf(c.sim, "gs-label") === "Ready");
    c.sim.allocate();
    await c.caughtUp();
    expect(stateOf(c.sim, "gs-label")).toBe("Allocated");
    expect(watcher.status).toBe("starting");
    c.sim.setSdkLabel("gs-label", "loaded", "true");
    await untilActive(c, watcher);
    expect(c.sim.gameServer("gs-label")?.metadata.labels["agones.dev/sdk-loaded"]).toBe("true");
  });

  it("Shutdown, Unhealthy, Error and a deletion each end the room with their own reason and the Agones state", async () => {
    const c = await cluster();
    for (const name of ["gs-shutdown", "gs-unhealthy", "gs-deleted"]) c.sim.createGameServer({ name, scenario: "ready" });
    c.sim.createGameServer({ name: "gs-error", scenario: "error" });
    const watchers = ["gs-shutdown", "gs-unhealthy", "gs-deleted", "gs-error"].map((name) => c.watch(name));
    await Promise.all(watchers.slice(0, 3).map((w) => untilActive(c, w)));
    c.sim.shutdown("gs-shutdown");
    c.sim.markUnhealthy("gs-unhealthy");
    c.sim.deleteGameServer("gs-deleted");
    const ends = await Promise.all(["gs-shutdown", "gs-unhealthy", "gs-deleted", "gs-error"].map((name) => untilTerminated(c, name)));
    expect(ends.map((e) => [e.roomId, e.reason, e.hostState])).toEqual([
      ["gs-shutdown", "shutdown", "Shutdown"],
      ["gs-unhealthy", "unhealthy", "Unhealthy"],
      ["gs-deleted", "deleted", "Ready"],
      ["gs-error", "error", "Error"],
    ]);
    expect(ends[0]?.lastConnection?.exposedPort.host).toBe(c.sim.truth("gs-shutdown")?.history.find((h) => h.state === "Ready")?.address);
    expect(c.sim.requestCount("list")).toBe(1);
  });

  it("a name not in the namespace ends not_found once the grace is over, with no request of its own", async () => {
    const c = await cluster();
    const watcher = c.watch("gs-nobody", { notFoundGraceMs: 300 });
    const end = await untilTerminated(c, "gs-nobody");
    expect(end.reason).toBe("not_found");
    expect(watcher.status).toBe("terminated");
    expect(end.evidence.lastObservation).toBe("not_found");
    // The namespace's list and no get. Its watch too, unless the grace ran out before the list was applied:
    // the source, left without rooms, then rightly never watches.
    expect(c.sim.requestCount("get")).toBe(0);
    expect(c.sim.requestCount("list")).toBe(1);
    expect(c.sim.requestCount()).toBe(1 + c.sim.requestCount("watch"));
    expect(c.sim.requestCount("watch")).toBeLessThanOrEqual(1);
  });

  it("a dropped stream is resumed from its resourceVersion: what happened while it was down arrives, no relist", async () => {
    const c = await cluster();
    c.sim.createGameServer({ name: "gs-drop", scenario: "ready" });
    const watcher = c.watch("gs-drop");
    await untilActive(c, watcher);
    // Active from the list, it may be, before the watch was asked for: drop the watch once it is streaming.
    await c.caughtUp();
    expect(c.sim.dropWatches()).toBe(1);
    c.sim.shutdown("gs-drop");
    const end = await untilTerminated(c, "gs-drop");
    expect([end.reason, end.hostState]).toEqual(["shutdown", "Shutdown"]);
    expect(c.sim.requestCount("watch")).toBeGreaterThanOrEqual(2);
    expect(c.sim.requestCount("list")).toBe(1);
  });

  it("a silent stream (no event, no bookmark, no end) is restarted by the stall watchdog and nothing is lost", async () => {
    const c = await cluster({}, { stallTimeoutMs: 250 });
    c.sim.createGameServer({ name: "gs-quiet", scenario: "ready" });
    const watcher = c.watch("gs-quiet");
    await untilActive(c, watcher);
    // Active from the list, it may be, before the watch was asked for: silence the watch once it is streaming.
    await c.caughtUp();
    const watchesBefore = c.sim.requestCount("watch");
    expect(c.sim.silenceWatches()).toBe(1);
    c.sim.markUnhealthy("gs-quiet");
    const end = await untilTerminated(c, "gs-quiet");
    expect([end.reason, end.hostState]).toEqual(["unhealthy", "Unhealthy"]);
    expect(c.sim.requestCount("watch")).toBeGreaterThan(watchesBefore);
    expect(c.sim.requestCount("list")).toBe(1);
  });

  it.each(["event", "http"] as const)("a 410 storm (as %s) forces relists; once it passes, every room ends as the truth says, deletions included", async (goneAs) => {
    const c = await cluster();
    const names = ["gs-s1", "gs-s2", "gs-s3"];
    for (const name of names) c.sim.createGameServer({ name, scenario: "ready" });
    const watchers = names.map((name) => c.watch(name));
    await Promise.all(watchers.map((w) => untilActive(c, w)));
    c.sim.setFaults({ watch: { goneRate: 1, goneAs } });
    c.sim.compactHistory();
    c.sim.dropWatches();
    c.sim.shutdown("gs-s1");
    c.sim.deleteGameServer("gs-s2");
    // Both gone before any watch came back: only a relist's diff can tell.
    await c.until(() => stateOf(c.sim, "gs-s1") === "Deleted" && stateOf(c.sim, "gs-s2") === "Deleted");
    await c.until(() => c.sim.requestCount("list") >= 3);
    expect(c.sim.truth("gs-s1")?.history.map((h) => h.state)).toContain("Shutdown");
    const watches = c.sim.requestCount("watch");
    c.sim.setFaults({});
    // A watch that is let through: what follows it comes as events again.
    await c.until(() => c.sim.requestCount("watch") > watches);
    await c.caughtUp();
    c.sim.markUnhealthy("gs-s3");
    const ends = await Promise.all(names.map((name) => untilTerminated(c, name)));
    expect(ends.map((e) => [e.reason, e.hostState])).toEqual([
      ["deleted", "Ready"],
      ["deleted", "Ready"],
      ["unhealthy", "Unhealthy"],
    ]);
    expect(c.log.filter((e) => e.type === "active")).toHaveLength(3);
  });

  it("429 and 5xx on the list are retried until one answers; the rooms hear them as transient errors and still turn active", async () => {
    const c = await cluster({ faults: { list: { errorRates: { 500: 0.4, 503: 0.3 }, rateLimit: { probability: 0.3, retryAfterSeconds: 0 } } } });
    c.sim.createGameServer({ name: "gs-flaky", scenario: "ready" });
    const watcher = c.watch("gs-flaky");
    await untilActive(c, watcher);
    const faults = c.sim.faultCounts();
    const injected = Object.values(faults).reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(0);
    expect(c.sim.requestCount("list")).toBe(injected + 1);
    expect(c.log.filter((e) => e.type === "error")).toHaveLength(injected);
    expect(watcher.connection?.exposedPort.port).toBe(c.sim.gameServer("gs-flaky")?.status.ports?.[0]?.port);
  });

  it.each([
    [["list", "get"], "watch"],
    [["watch", "get"], "list"],
  ] as const)("a 403 (granted %j) ends every room with an AccessDeniedError naming %s", async (granted, verb) => {
    const c = await cluster({ permissions: granted });
    c.sim.createGameServer({ name: "gs-rbac", scenario: "ready" });
    const error = await failure(waitForActive({ roomId: "gs-rbac", source: c.source, fleet: c.fleet, timeoutMs: 20_000 }));
    expect(error).toBeInstanceOf(RoomTerminatedError);
    const cause = (error as RoomTerminatedError).cause;
    expect(cause).toBeInstanceOf(AccessDeniedError);
    expect((cause as AccessDeniedError).message).toContain(verb);
    expect((cause as AccessDeniedError).message).toContain("gameservers");
    expect((cause as AccessDeniedError).retryable).toBe(false);
    expect(JSON.stringify({ message: (cause as Error).message, stack: (error as Error).stack })).not.toContain(TOKEN);
  });

  it("a kubeconfig that does not parse is a ConfigError naming the file, without the token in it", async () => {
    const path = join(tmpdir(), `rw-bad-kubeconfig-${process.pid}.yaml`);
    await writeFile(path, `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n  : [oops\n`);
    const error = await failure(kubeTransport({ kubeconfig: path }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(path);
    expect(`${(error as Error).message} ${(error as Error).stack ?? ""} ${JSON.stringify((error as Error).cause ?? null)}`).not.toContain(TOKEN);
  });

  it("no token from the kubeconfig appears in any event, error or evidence, faults and refusals included", async () => {
    const c = await cluster({ faults: { list: { errorRates: { 503: 0.5 } }, watch: { dropRate: 0.2 } } });
    c.sim.createGameServer({ name: "gs-leak", scenario: "ready" });
    const watcher = c.watch("gs-leak");
    await untilActive(c, watcher);
    c.sim.shutdown("gs-leak");
    await untilTerminated(c, "gs-leak");
    c.sim.setPermissions(["get"]);
    c.watch("gs-refused");
    expect((await untilTerminated(c, "gs-refused")).reason).toBe("failed");
    const dump = JSON.stringify(c.log, (_key, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message, stack: value.stack, cause: String(value.cause) } : value));
    expect(dump).toContain("gs-leak");
    expect(dump).not.toContain(TOKEN);
    expect(dump).not.toContain("Bearer");
  });
});
