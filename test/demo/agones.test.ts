/**
 * `runDemoScenario({ provider: "agones" })`: every kind of room on the fake Agones cluster, watched through
 * one AgonesSource over HTTPS, ends as the simulator's ground truth says, and nothing is left running.
 */
import { getActiveResourcesInfo } from "node:process";
import { expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { DEMO_PROVIDERS, runDemoScenario } from "../../src/demo/demo.js";
import { resourcesLeftAfter } from "../helpers/resources.js";

it("the Agones demo: every room matches the simulator's truth, each kind ends its own way, and nothing is left running", async () => {
  expect(DEMO_PROVIDERS).toContain("agones");
  const before = getActiveResourcesInfo();
  const result = await runDemoScenario({ provider: "agones", seed: 11, timeScale: 50, deadlineMs: 30_000 });
  expect(result.timedOut).toBe(false);
  const mismatches = result.rooms.filter((r) => !r.matches);
  expect(mismatches).toEqual([]);
  const byKind = (kind: string) => result.rooms.filter((r) => r.kind === kind).map((r) => r.reported.status === "terminated" ? r.reported.reason : r.reported.status);
  expect(byKind("loaded")).toEqual(Array(6).fill("active"));
  expect(byKind("unhealthy")).toEqual(["unhealthy", "unhealthy"]);
  expect(byKind("error")).toEqual(["error"]);
  expect(byKind("deleted-mid-start")).toEqual(["deleted", "deleted"]);
  expect(byKind("shutdown-after-load")).toEqual(["shutdown", "shutdown"]);
  for (const room of result.rooms.filter((r) => r.kind === "loaded")) {
    expect(room.reported.connection?.exposedPort).toEqual(room.truth.connection?.exposedPort);
    expect(room.requests).toBe(0);
  }
  expect(result.description).toContain("one list+watch");
  expect(await resourcesLeftAfter(before)).toEqual([]);
});

it("refuses a kind it does not have, and a gateway, with a ConfigError before starting anything", async () => {
  await expect(runDemoScenario({ provider: "agones", counts: { warm: 1 } })).rejects.toThrow(ConfigError);
  await expect(runDemoScenario({ provider: "agones", gateway: true })).rejects.toThrow(/--gateway/);
});
