import { describe, expect, it } from "vitest";
import { ObjectStore, viewOf, type StoredObject } from "../../../src/simulator/agones/object-store.js";
import { matches, parseFieldSelector, parseLabelSelector } from "../../../src/simulator/agones/selectors.js";
import { AgonesWorld } from "../../../src/simulator/agones/world.js";
import { parseGameServerRequest } from "../../../src/simulator/agones/game-server.js";

describe("label selectors", () => {
  const labels = { "agones.dev/fleet": "blue", "agones.dev/sdk-loaded": "true" };
  it.each([
    ["", true],
    ["agones.dev/fleet=blue", true],
    ["agones.dev/fleet==blue", true],
    ["agones.dev/fleet!=blue", false],
    ["agones.dev/fleet in (red, blue)", true],
    ["agones.dev/fleet notin (red,blue)", false],
    ["agones.dev/sdk-loaded", true],
    ["!agones.dev/sdk-loaded", false],
    ["agones.dev/fleet=blue,agones.dev/sdk-loaded=true", true],
    ["agones.dev/fleet=blue,missing", false],
  ])("%j matches: %s", (text, expected) => {
    const parsed = parseLabelSelector(text);
    expect(parsed.ok && matches(parsed.selector, labels)).toBe(expected);
  });

  it.each(["a=(", "bad key!=x", "a in (b"])("%j does not parse", (text) => {
    expect(parseLabelSelector(text).ok).toBe(false);
  });

  it("field selectors know only metadata.name and metadata.namespace", () => {
    const parsed = parseFieldSelector("metadata.name=gs-1,metadata.namespace!=other");
    expect(parsed.ok && matches(parsed.selector, { "metadata.name": "gs-1", "metadata.namespace": "default" })).toBe(true);
    expect(parseFieldSelector("status.state=Ready")).toEqual({
      ok: false,
      message: '"status.state" is not a known field selector: only "metadata.name", "metadata.namespace"',
    });
  });
});

describe("ObjectStore", () => {
  type Obj = StoredObject & { readonly metadata: { readonly labels: Record<string, string> } };
  const make = (name: string, labels: Record<string, string>) => (rv: string): Obj => ({ metadata: { name, namespace: "ns", resourceVersion: rv, labels } });

  it("stamps increasing versions, resumes from a kept one and expires a compacted one", () => {
    const store = new ObjectStore<Obj>(2);
    const first = store.rv;
    store.add(make("a", {}));
    store.add(make("b", {}));
    expect(store.since(first)).toMatchObject({ kind: "changes", changes: [{ rv: first + 1 }, { rv: first + 2 }] });
    store.add(make("c", {}));
    expect(store.since(first)).toEqual({ kind: "expired", oldestRv: first + 1 });
    expect(store.since(first + 1)).toMatchObject({ kind: "changes", changes: [{ rv: first + 2 }, { rv: first + 3 }] });
    store.compact();
    expect(store.since(first + 2).kind).toBe("expired");
    expect(store.since(store.rv)).toEqual({ kind: "changes", changes: [] });
  });

  it("shows a filtered watcher an object entering its selector as ADDED and leaving it as DELETED", () => {
    const store = new ObjectStore<Obj>(10);
    const seen: (string | undefined)[] = [];
    const filter = { labels: [{ op: "eq", key: "ok", value: "1" }] as const };
    store.subscribe((change) => seen.push(viewOf(filter, change)));
    store.add(make("a", {}));
    store.update("ns", "a", (_c, rv) => make("a", { ok: "1" })(rv));
    store.update("ns", "a", (_c, rv) => make("a", { ok: "1", x: "y" })(rv));
    store.update("ns", "a", (_c, rv) => make("a", {})(rv));
    store.add(make("b", { ok: "1" }));
    store.remove("ns", "b", (c, rv) => ({ ...c, metadata: { ...c.metadata, resourceVersion: rv } }));
    expect(seen).toEqual([undefined, "ADDED", "MODIFIED", "DELETED", "ADDED", "DELETED"]);
  });
});

describe("AgonesWorld", () => {
  function run(seed: number): unknown {
    const world = new AgonesWorld({ seed, unhealthyProbability: 0.3, errorProbability: 0.2 });
    const parsed = parseGameServerRequest({ metadata: { generateName: "gs-" } });
    if (!parsed.ok) throw new Error("invalid request");
    for (let i = 0; i < 10; i++) world.createGameServer(i * 100, "default", parsed.request);
    world.advance(120_000);
    return world.gameServers().map(({ namespace, name }) => world.truth(120_000, namespace, name));
  }

  it("is deterministic for a seed and differs across seeds", () => {
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it("takes each scenario down its path", () => {
    const world = new AgonesWorld({ seed: 1 });
    const parsed = parseGameServerRequest({ metadata: { generateName: "gs-" } });
    if (!parsed.ok) throw new Error("invalid request");
    const names = (["ready", "unhealthy", "error", "shutdown"] as const).map((scenario) => {
      const created = world.createGameServer(0, "default", parsed.request, scenario);
      return created.kind === "created" ? created.gameServer.metadata.name : "";
    });
    world.advance(600_000);
    const paths = names.map((name) => world.truth(600_000, "default", name)?.history.map((h) => h.state).join(">"));
    expect(paths).toEqual([
      "PortAllocation>Creating>Starting>Scheduled>RequestReady>Ready",
      "PortAllocation>Creating>Starting>Scheduled>RequestReady>Ready>Unhealthy>Deleted",
      "PortAllocation>Creating>Error",
      "PortAllocation>Creating>Starting>Scheduled>RequestReady>Ready>Shutdown>Deleted",
    ]);
  });

  it("spreads host ports over nodes with room, and leaves a server in PortAllocation (no throw from its timer) once every node is full", () => {
    // One node, 1,000 host ports (7000-7999): the 1,001st server waits until one is freed.
    const world = new AgonesWorld({ seed: 2, nodes: 1 });
    const parsed = parseGameServerRequest({ metadata: { generateName: "gs-" } });
    if (!parsed.ok) throw new Error("invalid request");
    const names = Array.from({ length: 1_001 }, () => {
      const created = world.createGameServer(0, "default", parsed.request, "ready");
      return created.kind === "created" ? created.gameServer.metadata.name : "";
    });
    expect(() => world.advance(60_000)).not.toThrow();
    const states = names.map((name) => world.truth(60_000, "default", name)?.state);
    expect(states.filter((s) => s === "Ready")).toHaveLength(1_000);
    const waiting = names.filter((_, i) => states[i] === "PortAllocation");
    expect(waiting).toHaveLength(1);
    const freed = names.find((_, i) => states[i] === "Ready") ?? "";
    world.deleteGameServer(60_000, "default", freed);
    world.advance(120_000);
    expect(world.truth(120_000, "default", waiting[0] ?? "")?.state).toBe("Ready");
  });
});
