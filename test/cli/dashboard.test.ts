/**
 * The dashboard from the CLI, as a child process: `demo --gateway` prints the dashboard's URL (on stderr
 * with --json, so stdout stays one JSON document); `--keep-open` keeps it serving the demo's rooms
 * until Ctrl-C, then shuts down cleanly with exit 0; `gateway --dashboard` serves it behind
 * --metrics-token, and without one is refused at once (exit 2, naming the flags).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { DashboardSnapshot } from "../../src/gateway/dashboard/snapshot.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { cliForTest, killAllCli, spawnCli } from "../helpers/cli-process.js";

const DASHBOARD_LINE = /^room-watcher demo: dashboard (http:\/\/127\.0\.0\.1:\d+\/dashboard)#token=([0-9a-f]{32})$/;

afterEach(async () => {
  await killAllCli();
});

async function snapshotOf(pageUrl: string, token: string): Promise<DashboardSnapshot> {
  const response = await fetch(`${pageUrl}/api/snapshot`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as DashboardSnapshot;
}

describe("demo --gateway", () => {
  it("--keep-open: prints the dashboard's URL, serves the demo's rooms after the summary, and exits 0 on Ctrl-C", async (context) => {
    const cli = cliForTest(context, ["demo", "--gateway", "--keep-open", "--time-scale", "50"], { lifetimeMs: 40_000 });
    const [, pageUrl = "", token = ""] = DASHBOARD_LINE.exec(await cli.line((l) => DASHBOARD_LINE.test(l))) ?? [];
    await cli.line((l) => l.includes("the dashboard stays up; Ctrl-C to stop"));
    const page = await fetch(pageUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="rooms-active"');
    const refused = await fetch(`${pageUrl}/api/snapshot`);
    expect(refused.status).toBe(401);
    await refused.text();
    const seen = await snapshotOf(pageUrl, token);
    // Every room the demo meant to see active is still watched, so the dashboard shows it as it is.
    expect(seen.rooms.active).toBeGreaterThan(0);
    expect(seen.rooms.totals.active).toBeGreaterThanOrEqual(seen.rooms.active);
    expect(seen.rooms.totals.ended).toBeGreaterThan(0);
    expect(seen.connections).toBe(1);
    expect(seen.detectionLatency.count).toBeGreaterThan(0);
    expect(seen.upstream.budgetPerSecond).toBe(100);
    cli.kill("SIGINT");
    const exit = await cli.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: ExitCode.OK, signal: null, stderr: "" });
    expect(exit.stdout).toContain("matching the simulator's truth");
    // Shut down: nothing answers at the dashboard's address any more.
    await expect(fetch(pageUrl)).rejects.toThrow();
  }, 45_000);

  it("--json --keep-open: the URL and the note go to stderr, stdout is the summary alone", async (context) => {
    const cli = cliForTest(context, ["demo", "--gateway", "--json", "--keep-open", "--time-scale", "50"], { lifetimeMs: 40_000 });
    const [, pageUrl = "", token = ""] = DASHBOARD_LINE.exec(await cli.errorLine((l) => DASHBOARD_LINE.test(l))) ?? [];
    await cli.errorLine((l) => l.includes("the dashboard stays up; Ctrl-C to stop"));
    expect((await snapshotOf(pageUrl, token)).connections).toBe(1);
    cli.kill("SIGINT");
    const exit = await cli.exited;
    expect(exit.code).toBe(ExitCode.OK);
    const summary = JSON.parse(exit.stdout) as { rooms: number; matching: number; gateway: unknown };
    expect(summary.matching).toBe(summary.rooms);
    expect(summary.gateway).toBeDefined();
  }, 45_000);

  it("--keep-open without --gateway is refused at once, naming the flags", async () => {
    const exit = await spawnCli(["demo", "--keep-open"]).exited;
    expect(exit.code).toBe(ExitCode.USAGE);
    expect(exit.stderr).toContain("--keep-open");
    expect(exit.stderr).toContain("--gateway");
    expect(exit.stdout).toBe("");
  });
});

describe("gateway --dashboard", () => {
  let simulator: Simulator;
  beforeAll(async () => {
    simulator = await Simulator.start({ seed: 5 });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it("without --metrics-token is refused at once, naming both flags", async () => {
    const exit = await spawnCli(["gateway", "--base-url", simulator.url, "--app-id", "app-1", "--dashboard"]).exited;
    expect(exit.code).toBe(ExitCode.USAGE);
    expect(exit.stderr).toContain("--dashboard needs --metrics-token");
    expect(exit.stdout).toBe("");
  });

  it("serves the dashboard behind --metrics-token (never printed), and logs where it is", async (context) => {
    const token = "metrics_token_for_the_dashboard";
    const cli = cliForTest(context, ["gateway", "--base-url", simulator.url, "--app-id", "app-1", "--dashboard"], { env: { ROOM_WATCHER_METRICS_TOKEN: token } });
    const wsUrl = await cli.line((l) => l.startsWith("ws://"));
    const pageUrl = `${wsUrl.replace("ws://", "http://")}/dashboard`;
    await cli.errorLine((l) => l.includes("gateway listening") && l.includes(pageUrl));
    expect((await fetch(pageUrl)).status).toBe(200);
    const seen = await snapshotOf(pageUrl, token);
    expect(seen.rooms).toEqual({ waiting: 0, starting: 0, active: 0, totals: { starting: 0, active: 0, ended: 0 } });
    cli.kill("SIGTERM");
    const exit = await cli.exited;
    expect(exit.code).toBe(ExitCode.OK);
    expect(exit.stdout + exit.stderr).not.toContain(token);
  });
});
