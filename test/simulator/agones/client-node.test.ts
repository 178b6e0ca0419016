/**
 * @kubernetes/client-node 1.4.0, unchanged, against the fake Agones API over real HTTPS on loopback:
 * it loads the simulator's kubeconfig (CA, token, namespace) and its CustomObjectsApi and Watch work.
 * Time is an injected clock moved by hand (and tick()), so lifecycles are deterministic without sleeps.
 */
import { ApiException, CustomObjectsApi, KubeConfig, Watch } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { afterEach, describe, expect, it } from "vitest";
import { AgonesSimulator, type AgonesSimulatorOptions } from "../../../src/simulator/index.js";

const NS = "default";
const PATH = `/apis/agones.dev/v1/namespaces/${NS}/gameservers`;
const GS = { group: "agones.dev", version: "v1", namespace: NS, plural: "gameservers" } as const;
/** No periodic bookmarks unless a test asks: it sends them with sendBookmarks(). */
const QUIET = 1e12;
const TIME_SCALE = 1000;

let sim: AgonesSimulator | undefined;
let clockMs = 0;
const clock = { now: () => clockMs };

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: AgonesSimulatorOptions = {}): Promise<{ sim: AgonesSimulator; kc: KubeConfig; api: CustomObjectsApi }> {
  clockMs = 0;
  sim = await AgonesSimulator.start({ clock, timeScale: TIME_SCALE, bookmarkIntervalMs: QUIET, seed: 7, ...options });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  return { sim, kc, api: kc.makeApiClient(CustomObjectsApi) };
}

/** Moves simulated time forward by `simulatedMs` and runs what fell due. */
function advance(s: AgonesSimulator, simulatedMs: number): void {
  clockMs += simulatedMs / TIME_SCALE;
  s.tick();
}

interface Event {
  readonly type: string;
  readonly object: { metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> }; status?: { state?: string } | string; code?: number; reason?: string };
}

interface Watching {
  readonly events: Event[];
  readonly done: Promise<unknown>;
  /** Resolves with the first event (from the start) that satisfies `test`. */
  until(test: (event: Event) => boolean): Promise<Event>;
  abort(): void;
}

async function watchWith(kc: KubeConfig, params: Record<string, string | number | boolean | undefined>, path = PATH): Promise<Watching> {
  const events: Event[] = [];
  const waiters: { test: (event: Event) => boolean; resolve: (event: Event) => void }[] = [];
  let finish: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => {
      const event = { type, object } as Event;
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.test(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
    (err) => finish(err),
  );
  return {
    events,
    done,
    until: (test) => {
      const seen = events.find(test);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
    abort: () => controller.abort(),
  };
}

/** A GET over HTTPS trusting the run's CA, for what the client hides (its 401 carries no body). */
function rawGet(s: AgonesSimulator, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`${s.url}${path}`, { ca: s.caPem, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

const stateOf = (event: Event): string | undefined => (typeof event.object.status === "object" ? event.object.status.state : undefined);

describe("AgonesSimulator with @kubernetes/client-node", () => {
  it("writes a kubeconfig with the CA, a token and the namespace, and refuses a wrong token with a 401 Status", async () => {
    const { sim, kc } = await start({ namespace: "games", token: "t0ken" });
    const text = readFileSync(sim.kubeconfigPath, "utf8");
    expect(text).toContain("certificate-authority-data");
    expect(kc.getCurrentCluster()?.server).toBe(sim.url);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe("games");
    expect(kc.getCurrentUser()?.token).toBe("t0ken");
    // Node's fetch does not trust the run's CA: a plain HTTPS client must be given it.
    expect(await fetch(`${sim.url}/apis/agones.dev/v1/namespaces/games/gameservers`).catch((e: unknown) => e)).toBeInstanceOf(Error);
    const raw = await rawGet(sim, "/apis/agones.dev/v1/namespaces/games/gameservers", "wrong");
    expect(raw.status).toBe(401);
    expect(JSON.parse(raw.body)).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    expect(raw.body).not.toContain("t0ken");
    const bad = new KubeConfig();
    bad.loadFromString(text.replace('token: "t0ken"', 'token: "wrong"'));
    const error = await bad.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ ...GS, namespace: "games" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(401);
  });

  it("lists GameServers with a resourceVersion, by label and by metadata.name, and gets one", async () => {
    const { sim, api } = await start();
    sim.createGameServer({ name: "gs-a", labels: { "agones.dev/fleet": "blue" } });
    sim.createGameServer({ name: "gs-b", labels: { "agones.dev/fleet": "red" } });
    const all = (await api.listNamespacedCustomObject(GS)) as { kind: string; metadata: { resourceVersion: string }; items: { metadata: { name: string } }[] };
    expect(all.kind).toBe("GameServerList");
    expect(all.metadata.resourceVersion).toBe(sim.resourceVersion());
    expect(all.items.map((i) => i.metadata.name).sort()).toEqual(["gs-a", "gs-b"]);
    const blue = (await api.listNamespacedCustomObject({ ...GS, labelSelector: "agones.dev/fleet=blue" })) as { items: { metadata: { name: string } }[] };
    expect(blue.items.map((i) => i.metadata.name)).toEqual(["gs-a"]);
    const named = (await api.listNamespacedCustomObject({ ...GS, fieldSelector: "metadata.name=gs-b" })) as { items: { metadata: { name: string } }[] };
    expect(named.items.map((i) => i.metadata.name)).toEqual(["gs-b"]);
    const bad = await api.listNamespacedCustomObject({ ...GS, fieldSelector: "status.state=Ready" }).catch((e: unknown) => e);
    expect((bad as ApiException<string>).code).toBe(400);
    const one = (await api.getNamespacedCustomObject({ ...GS, name: "gs-a" })) as { kind: string; status: { state: string } };
    expect(one.kind).toBe("GameServer");
    expect(one.status.state).toBe("PortAllocation");
    const missing = await api.getNamespacedCustomObject({ ...GS, name: "nope" }).catch((e: unknown) => e);
    expect((missing as ApiException<string>).code).toBe(404);
    expect(JSON.parse((missing as ApiException<string>).body)).toMatchObject({ reason: "NotFound", details: { name: "nope", group: "agones.dev", kind: "gameservers" } });
  });

  it("watches a scripted lifecycle from the list's version, with increasing resourceVersions, to Ready", async () => {
    const { sim, kc, api } = await start();
    const list = (await api.listNamespacedCustomObject(GS)) as { metadata: { resourceVersion: string } };
    const watching = await watchWith(kc, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
    sim.createGameServer({ name: "gs-1", scenario: "ready" });
    advance(sim, 60_000);
    await watching.until((e) => stateOf(e) === "Ready");
    expect(watching.events.map((e) => `${e.type}:${stateOf(e) ?? ""}`)).toEqual([
      "ADDED:PortAllocation",
      "MODIFIED:Creating",
      "MODIFIED:Starting",
      "MODIFIED:Scheduled",
      "MODIFIED:RequestReady",
      "MODIFIED:Ready",
    ]);
    const versions = watching.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    const truth = sim.truth("gs-1");
    expect(truth?.history.map((h) => h.state)).toEqual(["PortAllocation", "Creating", "Starting", "Scheduled", "RequestReady", "Ready"]);
    expect(truth?.history.at(-1)?.ports).toEqual([{ name: "default", port: expect.any(Number) }]);
    watching.abort();
  });

  it("sends BOOKMARK events with the current resourceVersion only when asked", async () => {
    const { sim, kc } = await start();
    sim.createGameServer({ name: "gs-1" });
    const withBookmarks = await watchWith(kc, { resourceVersion: sim.resourceVersion(), allowWatchBookmarks: true });
    const without = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    expect(sim.sendBookmarks()).toBe(1);
    const bookmark = await withBookmarks.until((e) => e.type === "BOOKMARK");
    expect(bookmark.object).toEqual({ kind: "GameServer", apiVersion: "agones.dev/v1", metadata: { resourceVersion: sim.resourceVersion() } });
    sim.deleteGameServer("gs-1");
    await without.until((e) => e.type === "MODIFIED");
    expect(without.events.some((e) => e.type === "BOOKMARK")).toBe(false);
    withBookmarks.abort();
    without.abort();
  });

  it("resumes a watch from a recent version and answers a compacted one with an in-stream 410 ERROR", async () => {
    const { sim, kc } = await start({ historySize: 3 });
    const from = sim.resourceVersion();
    sim.createGameServer({ name: "gs-1" });
    sim.createGameServer({ name: "gs-2" });
    const resumed = await watchWith(kc, { resourceVersion: from });
    await resumed.until((e) => e.object.metadata.name === "gs-2");
    expect(resumed.events.map((e) => `${e.type}:${e.object.metadata.name ?? ""}`)).toEqual(["ADDED:gs-1", "ADDED:gs-2"]);
    resumed.abort();
    sim.createGameServer({ name: "gs-3" });
    sim.createGameServer({ name: "gs-4" });
    const stale = await watchWith(kc, { resourceVersion: from });
    expect(await stale.done).toBeNull();
    expect(stale.events).toHaveLength(1);
    expect(stale.events[0]).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
  });

  it("answers a stale version with HTTP 410 when faults say so, which Watch reports as statusCode 410", async () => {
    const { sim, kc } = await start({ faults: { watch: { goneAs: "http" } } });
    const from = sim.resourceVersion();
    sim.createGameServer({ name: "gs-1" });
    sim.compactHistory();
    const stale = await watchWith(kc, { resourceVersion: from });
    expect(await stale.done).toMatchObject({ statusCode: 410 });
  });

  it("ends a watch after timeoutSeconds of simulated time, with a last bookmark", async () => {
    const { sim, kc } = await start();
    const watching = await watchWith(kc, { resourceVersion: sim.resourceVersion(), timeoutSeconds: 5, allowWatchBookmarks: true });
    expect(await watching.done).toBeNull();
    expect(watching.events.map((e) => e.type)).toEqual(["BOOKMARK"]);
    expect(sim.connectionStats().openWatches).toBe(0);
  });

  it("creates, deletes (deletionTimestamp, then DELETED) and answers Status errors like the API", async () => {
    const { sim, kc, api } = await start();
    const watching = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    const created = (await api.createNamespacedCustomObject({
      ...GS,
      body: { apiVersion: "agones.dev/v1", kind: "GameServer", metadata: { name: "made" }, spec: { ports: [{ name: "game", protocol: "TCPUDP", containerPort: 7777 }] } },
    })) as { metadata: { name: string; finalizers: string[] } };
    expect(created.metadata).toMatchObject({ name: "made", finalizers: ["agones.dev/controller"] });
    const conflict = await api.createNamespacedCustomObject({ ...GS, body: { metadata: { name: "made" } } }).catch((e: unknown) => e);
    expect((conflict as ApiException<string>).code).toBe(409);
    const invalid = await api.createNamespacedCustomObject({ ...GS, body: { metadata: { name: "Bad_Name" } } }).catch((e: unknown) => e);
    expect((invalid as ApiException<string>).code).toBe(422);
    expect(JSON.parse((invalid as ApiException<string>).body)).toMatchObject({ reason: "Invalid", details: { causes: [{ field: "metadata.name" }] } });
    advance(sim, 60_000);
    const ready = (await api.getNamespacedCustomObject({ ...GS, name: "made" })) as { spec: { ports: { name: string; protocol: string; hostPort: number }[] }; status: { ports: { name: string; port: number }[] } };
    expect(ready.spec.ports.map((p) => `${p.name}/${p.protocol}`)).toEqual(["game-tcp/TCP", "game-udp/UDP"]);
    expect(ready.status.ports.map((p) => p.name)).toEqual(["game-tcp", "game-udp"]);
    expect(ready.status.ports[0]?.port).toBe(ready.status.ports[1]?.port);
    const deleted = (await api.deleteNamespacedCustomObject({ ...GS, name: "made" })) as { metadata: { deletionTimestamp?: string } };
    expect(deleted.metadata.deletionTimestamp).toEqual(expect.any(String));
    advance(sim, 1_000);
    await watching.until((e) => e.type === "DELETED");
    expect(sim.truth("made")?.state).toBe("Deleted");
    const gone = await api.deleteNamespacedCustomObject({ ...GS, name: "made" }).catch((e: unknown) => e);
    expect((gone as ApiException<string>).code).toBe(404);
    watching.abort();
  });

  it("allocates a Ready server (201 Allocated), then answers UnAllocated and Contention with 201 too", async () => {
    const { sim, api } = await start({ loadMs: [500, 500], loadedLabel: "match-loaded" });
    sim.createGameServer({ name: "gs-1", scenario: "ready", labels: { "agones.dev/fleet": "f" } });
    advance(sim, 60_000);
    const allocation = { apiVersion: "allocation.agones.dev/v1", kind: "GameServerAllocation", spec: { selectors: [{ matchLabels: { "agones.dev/fleet": "f" } }] } };
    const group = { group: "allocation.agones.dev", version: "v1", namespace: NS, plural: "gameserverallocations" };
    const first = (await api.createNamespacedCustomObject({ ...group, body: allocation })) as { status: { state: string; gameServerName: string; source: string; ports: unknown[] } };
    expect(first.status).toMatchObject({ state: "Allocated", gameServerName: "gs-1", source: "local" });
    expect(sim.gameServer("gs-1")?.status.state).toBe("Allocated");
    const second = (await api.createNamespacedCustomObject({ ...group, body: allocation })) as { status: { state: string } };
    expect(second.status.state).toBe("UnAllocated");
    advance(sim, 500);
    expect(sim.gameServer("gs-1")?.metadata.labels["agones.dev/sdk-match-loaded"]).toBe("true");
    sim.createGameServer({ name: "gs-2", scenario: "ready", labels: { "agones.dev/fleet": "f" } });
    advance(sim, 60_000);
    sim.setFaults({ contentionRate: 1 });
    const third = (await api.createNamespacedCustomObject({ ...group, body: allocation })) as { status: { state: string } };
    expect(third.status.state).toBe("Contention");
    expect(sim.gameServer("gs-2")?.status.state).toBe("Ready");
  });

  it("refuses a verb the token lacks with a 403 Status naming it", async () => {
    const { api } = await start({ permissions: ["get", "watch"] });
    const error = await api.listNamespacedCustomObject(GS).catch((e: unknown) => e);
    expect((error as ApiException<string>).code).toBe(403);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({
      reason: "Forbidden",
      message: expect.stringContaining('cannot list resource "gameservers" in API group "agones.dev" in the namespace "default"'),
    });
  });

  it("injects 429 (with Retry-After) and 5xx on list, but not on watch", async () => {
    const { sim, kc, api } = await start({ faults: { list: { rateLimit: { probability: 1, retryAfterSeconds: 2 } } } });
    const limited = await api.listNamespacedCustomObject(GS).catch((e: unknown) => e);
    expect((limited as ApiException<string>).code).toBe(429);
    expect(JSON.parse((limited as ApiException<string>).body)).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 2 } });
    sim.setFaults({ list: { errorRates: { 503: 1 } } });
    const unavailable = await api.listNamespacedCustomObject(GS).catch((e: unknown) => e);
    expect((unavailable as ApiException<string>).code).toBe(503);
    const watching = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    sim.createGameServer({ name: "gs-1" });
    await watching.until((e) => e.type === "ADDED");
    expect(sim.faultCounts()).toEqual({ rateLimit: 1, http503: 1 });
    watching.abort();
  });

  it("drops streams, storms with 410s and goes silent on demand", async () => {
    const { sim, kc } = await start();
    const dropped = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    expect(sim.dropWatches()).toBe(1);
    await dropped.done;
    sim.setFaults({ watch: { goneRate: 1 } });
    const storm = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    await storm.done;
    expect(storm.events.map((e) => `${e.type}:${e.object.code ?? ""}`)).toEqual(["ERROR:410"]);
    sim.setFaults({ watch: { silentRate: 1 } });
    const silent = await watchWith(kc, { resourceVersion: sim.resourceVersion(), allowWatchBookmarks: true });
    sim.createGameServer({ name: "gs-1" });
    sim.sendBookmarks();
    // Another, healthy watch sees the change, so the silent one had its chance to receive it.
    sim.setFaults({});
    const healthy = await watchWith(kc, { resourceVersion: "0" });
    await healthy.until((e) => e.object.metadata.name === "gs-1");
    expect(silent.events).toEqual([]);
    expect(sim.connectionStats().openWatches).toBe(2);
    silent.abort();
    healthy.abort();
  });

  it("cuts a stream after an event when dropRate says so", async () => {
    const { sim, kc } = await start({ faults: { watch: { dropRate: 1 } } });
    const watching = await watchWith(kc, { resourceVersion: sim.resourceVersion() });
    sim.createGameServer({ name: "gs-1" });
    sim.createGameServer({ name: "gs-2" });
    await watching.done;
    expect(watching.events.map((e) => e.object.metadata.name)).toEqual(["gs-1"]);
  });
});
