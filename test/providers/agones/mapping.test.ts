import { describe, expect, it } from "vitest";
import { ConfigError, InvalidPayloadError, UnknownPortError } from "../../../src/core/errors.js";
import { type ActiveWhen, deletedObservation, observeGameServer, resolveActiveWhen } from "../../../src/providers/agones/mapping.js";
import { validateGameServerName, validateNamespace } from "../../../src/providers/agones/names.js";
import { GameServerSchema } from "../../../src/providers/agones/schemas.js";
import { parseGameServer, parseGameServerList, parseWatchEvent } from "../../../src/providers/agones/wire.js";

function gs(state: string | undefined, more: Record<string, unknown> = {}) {
  return GameServerSchema.parse({
    metadata: { name: "gs-1", labels: { "agones.dev/sdk-accepting": "true" }, ...((more.metadata as object) ?? {}) },
    spec: more.spec ?? { ports: [{ name: "game", protocol: "UDP" }] },
    status: { state, address: "1.2.3.4", ports: [{ name: "game", port: 7001 }], ...((more.status as object) ?? {}) },
  });
}
const options = (activeWhen?: ActiveWhen, portName?: string, addressType?: string) => ({ activeWhen: resolveActiveWhen(activeWhen), portName, addressType });

describe("GameServer state → observation", () => {
  it.each([
    [undefined, "starting"],
    ["", "starting"],
    ["PortAllocation", "starting"],
    ["Creating", "starting"],
    ["Starting", "starting"],
    ["Scheduled", "starting"],
    ["RequestReady", "starting"],
    ["Ready", "active"],
    ["Reserved", "active"],
    ["Allocated", "active"],
    ["Shutdown", "ended:shutdown"],
    ["Error", "ended:error"],
    ["Unhealthy", "ended:unhealthy"],
    ["Hibernating", "unrecognized"],
  ])("%s → %s (activeWhen Ready)", (state, expected) => {
    const { observation, warnings } = observeGameServer(gs(state), options());
    const kind = observation.kind === "ended" ? `ended:${observation.reason}` : observation.kind;
    expect(kind).toBe(expected);
    if (observation.kind === "ended") expect(observation.hostState).toBe(state);
    expect(warnings.map((w) => w.code)).toEqual(expected === "unrecognized" ? ["UNKNOWN_STATUS"] : []);
  });

  it.each([
    ["Allocated", "Ready", "starting"],
    ["Allocated", "Allocated", "active"],
    [{ label: "accepting", value: "true" }, "Ready", "active"],
    [{ label: "agones.dev/sdk-accepting", value: "true" }, "Allocated", "active"],
    [{ label: "accepting", value: "false" }, "Ready", "starting"],
    [{ label: "accepting", value: "true" }, "Scheduled", "starting"],
    [{ annotation: "loaded", value: "yes" }, "Ready", "starting"],
  ] as const)("activeWhen %j in %s → %s", (activeWhen, state, expected) => {
    expect(observeGameServer(gs(state), options(activeWhen)).observation.kind).toBe(expected);
  });

  it("an annotation condition reads annotations", () => {
    const server = gs("Ready", { metadata: { annotations: { "agones.dev/sdk-loaded": "yes" } } });
    expect(observeGameServer(server, options({ annotation: "loaded", value: "yes" })).observation.kind).toBe("active");
  });

  it("a deletion requested on a live server is an ending (deleted, with its state); a DELETED event too", () => {
    const obs = observeGameServer(gs("Ready", { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" } }), options()).observation;
    expect(obs).toEqual({ kind: "ended", reason: "deleted", hostState: "Ready" });
    expect(deletedObservation("Allocated").observation).toEqual({ kind: "ended", reason: "deleted", hostState: "Allocated" });
  });

  it.each([[42], ["Sometimes"], [{ label: "bad key!", value: "x" }], [{ other: 1 }]])("activeWhen %j is a ConfigError", (bad) => {
    expect(() => resolveActiveWhen(bad as ActiveWhen)).toThrow(ConfigError);
  });
});

describe("ports and addresses", () => {
  const tcpudp = {
    spec: { ports: [{ name: "game-tcp", protocol: "TCP" }, { name: "game-udp", protocol: "UDP" }, { name: "admin", protocol: "TCP" }] },
    status: { ports: [{ name: "game-tcp", port: 7506 }, { name: "game-udp", port: 7506 }, { name: "admin", port: 9000 }] },
  };

  it.each([
    ["default: the first port, and its TCPUDP sibling first among the others", undefined, ["game-tcp/tcp:7506", "game-udp/udp:7506", "admin/tcp:9000"]],
    ["by the TCPUDP port's original name: both halves", "game", ["game-tcp/tcp:7506", "game-udp/udp:7506", "admin/tcp:9000"]],
    ["by a half's own name", "game-udp", ["game-udp/udp:7506", "game-tcp/tcp:7506", "admin/tcp:9000"]],
    ["another port", "admin", ["admin/tcp:9000", "game-tcp/tcp:7506", "game-udp/udp:7506"]],
  ])("%s", (_, portName, expected) => {
    const { observation } = observeGameServer(gs("Ready", tcpudp), options(undefined, portName));
    if (observation.kind !== "active") throw new Error("not active");
    const ports = [observation.connection.exposedPort, ...observation.connection.additionalExposedPorts];
    expect(ports.map((p) => `${p.name}/${p.transportType}:${p.port}`)).toEqual(expected);
    expect(ports.every((p) => p.host === "1.2.3.4")).toBe(true);
  });

  it("an unsplit TCPUDP entry is split as Agones would", () => {
    const server = gs("Ready", { spec: { ports: [{ name: "game", protocol: "TCPUDP" }] }, status: { ports: [{ name: "game", port: 7000 }] } });
    const { observation } = observeGameServer(server, options(undefined, "game"));
    if (observation.kind !== "active") throw new Error("not active");
    expect([observation.connection.exposedPort, ...observation.connection.additionalExposedPorts].map((p) => `${p.name}/${p.transportType}`)).toEqual(["game-tcp/tcp", "game-udp/udp"]);
  });

  it("a protocol nobody documented is kept, lowercased, and reported; no protocol is UDP", () => {
    const server = gs("Ready", { spec: { ports: [{ name: "game", protocol: "SCTP" }] } });
    const result = observeGameServer(server, options());
    expect(result.observation.kind === "active" && result.observation.connection.exposedPort.transportType).toBe("sctp");
    expect(result.warnings.map((w) => w.code)).toEqual(["UNKNOWN_TRANSPORT_TYPE"]);
    const noProtocol = observeGameServer(gs("Ready", { spec: { ports: [{ name: "game" }] } }), options());
    expect(noProtocol.observation.kind === "active" && noProtocol.observation.connection.exposedPort.transportType).toBe("udp");
  });

  it("the host of a chosen address type comes from status.addresses", () => {
    const server = gs("Ready", { status: { addresses: [{ type: "InternalIP", address: "10.0.0.9" }, { type: "PodIP", address: "10.1.1.1" }] } });
    const { observation } = observeGameServer(server, options(undefined, undefined, "PodIP"));
    expect(observation.kind === "active" && observation.connection.exposedPort.host).toBe("10.1.1.1");
    expect(() => observeGameServer(server, options(undefined, undefined, "ExternalDNS"))).toThrow(/no address of type "ExternalDNS" \(its address types: InternalIP, PodIP\)/);
  });

  it("a missing port name is an UnknownPortError naming the ports there are", () => {
    expect(() => observeGameServer(gs("Ready"), options(undefined, "voice"))).toThrow(UnknownPortError);
    expect(() => observeGameServer(gs("Ready"), options(undefined, "voice"))).toThrow('GameServer gs-1 has no port named "voice" (it has "game")');
  });

  it.each([
    ["no address", { status: { address: "" } }],
    ["null ports", { status: { ports: null } }],
  ])("an active server with %s is an InvalidPayloadError (the next change brings it)", (_, more) => {
    expect(() => observeGameServer(gs("Ready", more), options())).toThrow(InvalidPayloadError);
  });
});

describe("wire", () => {
  it("names: GameServer names are Kubernetes object names, namespaces DNS labels", () => {
    for (const good of ["gs-1", "simple-game-server-7pjrq", "a.b-c", "a"]) expect(validateGameServerName(good)).toBe(good);
    for (const bad of ["", "GS", "-a", "a-", "a/b", "a_b", ".a", "a".repeat(254)]) expect(() => validateGameServerName(bad)).toThrow(ConfigError);
    for (const good of ["default", "game-1"]) expect(validateNamespace(good)).toBe(good);
    for (const bad of ["", "a.b", "A", "x".repeat(64), "-x"]) expect(() => validateNamespace(bad)).toThrow(ConfigError);
  });

  it("a malformed item in a list is kept under its name as invalid; one without a name is set aside", () => {
    const body = parseGameServerList({ metadata: { resourceVersion: "5" }, items: [{ metadata: { name: "ok" } }, { metadata: { name: "bad" }, status: { ports: "nope" } }, { nope: 1 }] });
    expect(body.entries.map((e) => `${e.name}:${e.kind}`)).toEqual(["ok:object", "bad:invalid"]);
    expect(body.nameless).toHaveLength(1);
    expect(body.nameless[0]).toBeInstanceOf(InvalidPayloadError);
    expect(() => parseGameServerList({ items: [] })).toThrow(InvalidPayloadError);
  });

  it("fields a newer Agones adds are tolerated; nullable fields may be null", () => {
    expect(parseGameServer({ metadata: { name: "x", extra: 1 }, spec: null, status: { state: "Ready", ports: null, addresses: null, counters: {} }, newField: true }).kind).toBe("object");
  });

  it.each([
    [{ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "2" } } }, "ADDED"],
    [{ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } }, "BOOKMARK"],
    [{ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } }, "ERROR"],
    [{ type: "NEWTYPE", object: {} }, "unknown"],
  ])("watch event %j", (raw, type) => {
    expect(parseWatchEvent(raw).type).toBe(type);
  });

  it.each([[{}], [{ type: "BOOKMARK", object: {} }], [{ type: "ADDED", object: { metadata: {} } }], [null]])("malformed watch event %j is an InvalidPayloadError", (raw) => {
    expect(() => parseWatchEvent(raw)).toThrow(InvalidPayloadError);
  });
});
