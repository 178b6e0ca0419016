/**
 * `runDemoScenario({ provider: "edgegap" })`: every kind of deployment on the fake Edgegap, polled directly
 * or through an in-process gateway fed by Edgegap's webhooks, ends as the fake's ground truth says (an
 * error with its error_detail, a stop held until READY as `shutdown`), and nothing is left running.
 */
import { getActiveResourcesInfo } from "node:process";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { type DemoResult, DEMO_PROVIDERS, runDemoScenario } from "../../src/demo/demo.js";
import { edgegapTruthOf } from "../../src/demo/edgegap-backend.js";
import { resourcesLeftAfter } from "../helpers/resources.js";

function expectKindsEnded(result: DemoResult): void {
  expect(result.timedOut).toBe(false);
  expect(result.rooms.filter((r) => !r.matches)).toEqual([]);
  const byKind = (kind: string) => result.rooms.filter((r) => r.kind === kind).map((r) => (r.reported.status === "terminated" ? r.reported.reason : r.reported.status));
  expect(byKind("ready")).toEqual(Array(6).fill("active"));
  expect(byKind("error")).toEqual(["error", "error"]);
  expect(byKind("stopped-mid-start")).toEqual(["shutdown", "shutdown"]);
  for (const room of result.rooms.filter((r) => r.kind === "error")) {
    expect(room.reported.detail).toBe("Pull image timeout exceeded");
    expect(room.truth.detail).toBe(room.reported.detail);
  }
  for (const room of result.rooms.filter((r) => r.kind === "ready")) {
    expect(room.reported.connection?.exposedPort).toEqual(room.truth.connection?.exposedPort);
    expect(room.reported.connection?.exposedPort.host).toBe(`${room.roomId}.localhost`);
    expect(room.requests).toBeGreaterThan(0);
  }
}

describe("the Edgegap demo", () => {
  it("polling: every deployment matches the fake's truth, each kind ends its own way, and nothing is left running", async () => {
    expect(DEMO_PROVIDERS).toContain("edgegap");
    const before = getActiveResourcesInfo();
    const progress: string[] = [];
    const result = await runDemoScenario({ provider: "edgegap", seed: 5, timeScale: 50, deadlineMs: 30_000, onProgress: (p) => progress.push(`${p.event} ${p.detail}`) });
    expectKindsEnded(result);
    expect(result.gateway).toBeUndefined();
    expect(progress).toContain("terminated error: Pull image timeout exceeded");
    expect(result.description).toContain("16 requests/s");
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("through a gateway: webhooks pointed at it are the hints, every deployment still matches, and nothing is left running", async () => {
    const before = getActiveResourcesInfo();
    const result = await runDemoScenario({ provider: "edgegap", seed: 5, timeScale: 50, deadlineMs: 30_000, gateway: true });
    expectKindsEnded(result);
    const figures = result.gateway;
    expect(figures).toBeDefined();
    // One webhook per READY or ERROR (a stopped deployment's READY too): the fake calls each once.
    expect(figures?.hints.sent).toBe(10);
    expect(figures?.hints.accepted).toBeGreaterThan(0);
    expect((figures?.hints.accepted ?? 0) + (figures?.hints.failed ?? 0)).toBe(figures?.hints.sent);
    // Every status request the fake saw for the deployments was the gateway's.
    expect(result.rooms.reduce((n, r) => n + r.requests, 0)).toBeLessThanOrEqual(figures?.upstreamRequests ?? 0);
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("refuses a kind it does not have with a ConfigError before starting anything", async () => {
    await expect(runDemoScenario({ provider: "edgegap", counts: { warm: 1 } })).rejects.toThrow(ConfigError);
    await expect(runDemoScenario({ provider: "edgegap", counts: { ready: -1 } })).rejects.toThrow(/non-negative/);
  });
});

describe("edgegapTruthOf", () => {
  const base = { requestId: "a1", scenario: "ready" as const, fqdn: "a1.localhost", publicIp: "127.0.0.1", externalPorts: { gameport: 31000 }, webhooks: {}, errorDetail: undefined };
  const at = (status: string, ms: number) => ({ status: status as "READY", at: ms });
  it.for([
    { name: "ready", history: [at("INITIALIZING", 0), at("READY", 10)], status: "active", activeAt: 10 },
    { name: "stop held until READY: TERMINATING at the same instant", history: [at("INITIALIZING", 0), at("READY", 10), at("TERMINATING", 10)], status: "shutdown", activeAt: undefined },
    { name: "ready, later stopped", history: [at("INITIALIZING", 0), at("READY", 10), at("TERMINATING", 50), at("TERMINATED", 90)], status: "shutdown", activeAt: 10 },
    { name: "error", history: [at("INITIALIZING", 0), at("ERROR", 10)], status: "error", activeAt: undefined },
    { name: "starting", history: [at("INITIALIZING", 0), at("DEPLOYING", 5)], status: "starting", activeAt: undefined },
  ])("$name", ({ history, status, activeAt }) => {
    const truth = edgegapTruthOf({ ...base, status: history.at(-1)!.status, history }, (ms) => ms);
    expect({ status: truth.status, activeAt: truth.activeAt }).toEqual({ status, activeAt });
  });
});
