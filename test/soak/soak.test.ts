/**
 * The chaos soak, short and seeded (npm run soak runs the long one): whatever the faults, every room
 * ends as the simulator says it did, and nothing is left behind.
 */
import { afterEach, expect, it } from "vitest";
import { killAllCli } from "../helpers/cli-process.js";
import { formatSummary, runSoak } from "./soak.js";

// The soak's gateway processes, should it fail before stopping them.
afterEach(killAllCli);

const long = process.env.SOAK === "long";

it(
  `chaos soak (${long ? "long" : "short"}): every report matches its simulator's record (Hathora, Agones, Edgegap), the budget holds, nothing is left`,
  async () => {
    const summary = await runSoak(
      long
        ? // Settling takes longer than the short soak's 20 s: Edgegap's budget (16/s) goes round its ~250 live
          // deployments once in about 16 s, so a deployment whose webhook was lost is seen stopped a cycle or
          // two after its stop, not at once.
          { seed: Number(process.env.SOAK_SEED ?? 2026), rooms: 1_000, createOverMs: 20_000, chaosMs: 30_000, settleMs: 45_000, fleetBudgetPerSecond: 100, gatewayKills: 3 }
        : { seed: 7, rooms: 120, createOverMs: 2_000, chaosMs: 5_000, settleMs: 20_000, fleetBudgetPerSecond: 30, gatewayKills: 2 },
    );
    console.log(formatSummary(summary));
    expect(summary.mismatches).toEqual([]);
    expect(summary.unhandled).toEqual([]);
    expect(summary.fullest10sWindow).toBeLessThanOrEqual(summary.budget10s);
    expect(summary.leftAfterStop).toEqual({ timers: 0, fleetTimers: 0, resources: [], listeners: 0 });
    // The chaos really happened.
    for (const kind of ["crash", "rateLimitBurst", "latencySpike", "drop", "malformed", "http500", "rateLimit", "gatewayKill"]) {
      expect(summary.faults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect(summary.roomsByMode.gateway).toBeGreaterThan(0);
    // A third of the rooms are Agones GameServers, and every lifecycle happened among them (which ending a
    // watcher reports for a Shutdown or Unhealthy server depends on the outages: it may see only the deletion).
    expect(summary.roomsByMode.agones).toBe(Math.floor(summary.rooms / 3));
    for (const state of ["Ready", "Allocated", "Shutdown", "Unhealthy", "Error", "Deleted"]) {
      expect(summary.agonesStates[state] ?? 0, state).toBeGreaterThan(0);
    }
    for (const outcome of ["active", "terminated (error)", "terminated (deleted)"]) {
      expect(summary.outcomes[`agones ${outcome}`] ?? 0, `agones ${outcome}`).toBeGreaterThan(0);
    }
    // The Agones faults happened, and the watch client met them: cut streams, a silence the stall watchdog
    // caught, 410s after compactions, relists that met 429 and 5xx.
    for (const kind of ["streamsDropped", "silences", "stallsCaught", "compactions", "goneStorms", "watch410", "relists", "list.rateLimit", "deleteMidStart", "deleteAfterActive", "allocations"]) {
      expect(summary.agonesFaults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect((summary.agonesFaults["list.http500"] ?? 0) + (summary.agonesFaults["list.http503"] ?? 0), "list 5xx").toBeGreaterThan(0);
    // A third are Edgegap deployments: every lifecycle happened among them, and every ending was reported
    // (a stopped deployment ends shutdown or destroyed, as its truth was when it was seen).
    expect(summary.roomsByMode.edgegap).toBe(Math.floor(summary.rooms / 3));
    for (const status of ["READY", "ERROR", "TERMINATING", "TERMINATED"]) {
      expect(summary.edgegapStates[status] ?? 0, status).toBeGreaterThan(0);
    }
    for (const outcome of ["active", "terminated (error)"]) {
      expect(summary.outcomes[`edgegap ${outcome}`] ?? 0, `edgegap ${outcome}`).toBeGreaterThan(0);
    }
    expect((summary.outcomes["edgegap terminated (shutdown)"] ?? 0) + (summary.outcomes["edgegap terminated (destroyed)"] ?? 0), "edgegap stopped").toBeGreaterThan(0);
    // The Edgegap faults happened: 5xx, malformed bodies, 429 bursts on each of which every Edgegap look
    // paused (no request of its budget started in a pause: checked among the mismatches, as its budget is).
    for (const kind of ["status.limit429", "status.malformed", "http5xxBursts", "rateLimitBursts", "malformedBursts", "stopMidStart", "stopAfterActive"]) {
      expect(summary.edgegapFaults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    expect((summary.edgegapFaults["status.http500"] ?? 0) + (summary.edgegapFaults["status.http503"] ?? 0), "status 5xx").toBeGreaterThan(0);
    expect(summary.fleetPauses.edgegap ?? 0, "pauses on Edgegap's 429s").toBeGreaterThan(0);
    expect(summary.requests.edgegapFullest1s).toBeLessThanOrEqual(20);
    // Its webhooks came as hints, some lost and some forged (with the secret, and without: refused).
    for (const kind of ["webhooks.delivered", "webhooks.dropped", "webhooks.forged", "forgeries", "hints.accepted", "hints.badSecret"]) {
      expect(summary.edgegapFaults[kind] ?? 0, kind).toBeGreaterThan(0);
    }
    // The gateway's clients lost it, fell back to polling during the long outage, and returned to push.
    expect(summary.gatewayClients.disconnected).toBeGreaterThan(0);
    expect(summary.gatewayClients.fallbacks).toBeGreaterThan(0);
    expect(summary.gatewayClients.resumedPush).toBe(summary.gatewayClients.fallbacks);
  },
  long ? 180_000 : 60_000,
);
