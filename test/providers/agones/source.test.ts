import { describe, expect, it } from "vitest";
import { AccessDeniedError, ConfigError } from "../../../src/core/errors.js";
import type { PollResult } from "../../../src/core/observation.js";
import type { SourceListener } from "../../../src/core/source.js";
import { AgonesSource } from "../../../src/providers/agones/source.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { gameServer, list, ScriptedTransport } from "./scripted-transport.js";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder() {
  const seen: string[] = [];
  const describe = (r: PollResult) => (r.observation.kind === "active" ? `active ${r.observation.connection.exposedPort.host}:${r.observation.connection.exposedPort.port}` : r.observation.kind === "ended" ? `ended ${r.observation.reason}/${r.observation.hostState}` : r.observation.kind);
  const listener: SourceListener = {
    onResult: (result) => seen.push(describe(result)),
    onTransientFailure: (f) => seen.push(`failure ${f.error.code}`),
    onFatal: (error) => seen.push(`fatal ${(error as { code?: string }).code}`),
  };
  return { seen, listener };
}

describe("AgonesSource", () => {
  it("two rooms in one namespace share one list and one watch; each hears its cached object first; the last to leave stops it", async () => {
    const time = fakeClock();
    const transport = new ScriptedTransport().answerList(list("10", [gameServer("gs-a", "Ready", { rv: "3" }), gameServer("gs-b", "Scheduled", { rv: "4" })]));
    const source = new AgonesSource({ transport, clock: time.clock });
    const a = recorder();
    const b = recorder();
    const subA = source.subscribe("gs-a", a.listener);
    await settle();
    expect(a.seen).toEqual(["active 10.0.0.1:7001"]);
    const subB = source.subscribe("gs-b", b.listener);
    // Current state first, from the cache, with no request of its own.
    expect(b.seen).toEqual(["starting"]);
    transport.lastWatch.push({ type: "MODIFIED", object: gameServer("gs-b", "Ready", { rv: "11", address: "10.0.0.2" }) });
    await settle();
    expect(b.seen).toEqual(["starting", "active 10.0.0.2:7001"]);
    expect(a.seen).toEqual(["active 10.0.0.1:7001"]);
    expect(transport.calls).toEqual(["list default", "watch default rv=10"]);
    await subA.unsubscribe();
    expect(source.watching).toBe(true);
    await subB.unsubscribe();
    expect(source.watching).toBe(false);
    expect(transport.lastWatch.aborted).toBe(true);
    expect(source.pendingTimers).toBe(0);
    expect(time.timers()).toBe(0);
  });

  it("a room not in the namespace hears not_found, again every notFoundRecheckMs from the cache, until it appears", async () => {
    const time = fakeClock();
    const transport = new ScriptedTransport().answerList(list("10", []));
    const source = new AgonesSource({ transport, clock: time.clock, notFoundRecheckMs: 1_000 });
    const r = recorder();
    const sub = source.subscribe("gs-late", r.listener);
    await settle();
    await time.tick(2_000);
    expect(r.seen).toEqual(["not_found", "not_found", "not_found"]);
    transport.lastWatch.push({ type: "ADDED", object: gameServer("gs-late", "Creating", { rv: "12" }) });
    await settle();
    await time.tick(5_000);
    expect(r.seen).toEqual(["not_found", "not_found", "not_found", "starting"]);
    expect(transport.calls).toEqual(["list default", "watch default rv=10"]);
    await sub.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("a room that leaves while it hears not_found (its grace ran out) leaves no recheck timer behind", async () => {
    // Found by the chaos soak: the recheck was scheduled after the listener had already left.
    const time = fakeClock();
    const transport = new ScriptedTransport().answerList(list("10", []));
    const source = new AgonesSource({ transport, clock: time.clock, notFoundRecheckMs: 1_000 });
    const seen: string[] = [];
    let leaving: Promise<void> | undefined;
    const sub = source.subscribe("gs-never", {
      onResult: (result) => {
        seen.push(result.observation.kind);
        if (seen.length === 2) leaving = sub.unsubscribe();
      },
      onTransientFailure: () => undefined,
      onFatal: () => undefined,
    });
    await settle();
    await time.tick(1_000);
    await leaving;
    expect(seen).toEqual(["not_found", "not_found"]);
    expect(source.watching).toBe(false);
    expect(source.pendingTimers).toBe(0);
    expect(time.timers()).toBe(0);
  });

  it("DELETED ends the room as deleted with its last Agones state; Shutdown as shutdown", async () => {
    const time = fakeClock();
    const transport = new ScriptedTransport().answerList(list("10", [gameServer("gs-a", "Ready"), gameServer("gs-b", "Ready")]));
    const source = new AgonesSource({ transport, clock: time.clock });
    const a = recorder();
    const b = recorder();
    const subs = [source.subscribe("gs-a", a.listener), source.subscribe("gs-b", b.listener)];
    await settle();
    transport.lastWatch.push({ type: "DELETED", object: gameServer("gs-a", "Allocated", { rv: "20" }) }, { type: "MODIFIED", object: gameServer("gs-b", "Shutdown", { rv: "21" }) });
    await settle();
    expect(a.seen).toEqual(["active 10.0.0.1:7001", "ended deleted/Allocated"]);
    expect(b.seen).toEqual(["active 10.0.0.1:7001", "ended shutdown/Shutdown"]);
    await Promise.all(subs.map((s) => s.unsubscribe()));
    expect(time.timers()).toBe(0);
  });

  it("RBAC refusal fails every room with AccessDeniedError; a missing port name fails its room only", async () => {
    const time = fakeClock();
    const transport = new ScriptedTransport().answerList(new AccessDeniedError(403, "list", "gameservers.agones.dev", undefined));
    const source = new AgonesSource({ transport, clock: time.clock });
    const r = recorder();
    source.subscribe("gs-a", r.listener);
    await settle();
    expect(r.seen).toEqual(["fatal RW_ACCESS_DENIED"]);
    expect(source.watching).toBe(false);

    const t2 = new ScriptedTransport().answerList(list("1", [gameServer("gs-a", "Ready"), gameServer("gs-b", "Ready")]));
    const s2 = new AgonesSource({ transport: t2, clock: time.clock, portName: "voice" });
    const a = recorder();
    s2.subscribe("gs-a", a.listener);
    await settle();
    expect(a.seen).toEqual(["fatal RW_UNKNOWN_PORT"]);
    await s2.close();
    expect(time.timers()).toBe(0);
  });

  it("bad names and options fail before any request; key and target carry no secret", () => {
    const transport = new ScriptedTransport();
    const source = new AgonesSource({ transport, namespace: "games" });
    expect(() => source.checkRoomId("Bad_Name")).toThrow(ConfigError);
    expect(() => source.subscribe("Bad_Name", recorder().listener)).toThrow(ConfigError);
    expect(() => new AgonesSource({ transport, namespace: "Not.A.Label" })).toThrow(ConfigError);
    expect(() => new AgonesSource({ transport, stallTimeoutMs: -1 })).toThrow(ConfigError);
    expect(transport.calls).toEqual([]);
    expect(source.target("gs-1")).toEqual({ name: "the Kubernetes API", url: "https://k8s.test:6443/apis/agones.dev/v1/namespaces/games/gameservers/gs-1", app: "games" });
    // Different mappings of the same namespace must not share a feed.
    expect(new AgonesSource({ transport, namespace: "games", activeWhen: "Allocated" }).key).not.toBe(source.key);
  });
});
