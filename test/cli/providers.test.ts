/**
 * `--provider` as a user runs it (the built CLI as a child process): Agones GameServers through a
 * kubeconfig against the fake Kubernetes API, Edgegap deployments against the fake Edgegap, over real
 * HTTPS and HTTP on loopback. Bad input in each form exits with its own code at once, and no token is
 * ever printed.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { CliIo } from "../../src/cli/io.js";
import { edgegap as edgegapProvider } from "../../src/cli/providers/edgegap.js";
import type { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { AgonesSimulator } from "../../src/simulator/agones/simulator.js";
import { EdgegapSimulator } from "../../src/simulator/edgegap/simulator.js";
import { cliForTest, killAllCli } from "../helpers/cli-process.js";

const EDGEGAP_TOKEN = "edgegap-org-token-5f3a9c";

let agones: AgonesSimulator;
let edgegap: EdgegapSimulator;
let kubeToken: string;

beforeAll(async () => {
  agones = await AgonesSimulator.start({ seed: 3, timeScale: 50 });
  edgegap = await EdgegapSimulator.start({ seed: 3, timeScale: 50, token: EDGEGAP_TOKEN });
  kubeToken = /token: (\S+)/.exec(readFileSync(agones.kubeconfigPath, "utf8"))?.[1] ?? "";
  expect(kubeToken.length).toBeGreaterThan(8);
});
afterAll(async () => {
  void killAllCli();
  await Promise.all([agones.close(), edgegap.close()]);
});

const agonesArgs = (command: string, name: string, ...rest: string[]): string[] => [command, name, "--provider", "agones", "--kubeconfig", agones.kubeconfigPath, ...rest];
const edgegapArgs = (command: string, id: string, ...rest: string[]): string[] => [command, id, "--provider", "edgegap", "--base-url", edgegap.url, "--port-name", "gameport", ...rest];

describe.concurrent("--provider agones", () => {
  it("wait prints the GameServer's address once it is Ready, as the fake API's truth has it", async (context) => {
    const gs = agones.createGameServer({ scenario: "ready" });
    const name = gs.metadata.name ?? "";
    const result = await cliForTest(context, agonesArgs("wait", name, "--json"), { lifetimeMs: 20_000 }).exited;
    expect(result.code).toBe(ExitCode.OK);
    const printed = JSON.parse(result.stdout) as { exposedPort: { host: string; port: number } };
    const live = agones.gameServer(name);
    expect(agones.truth(name)?.history.map((h) => h.state)).toContain("Ready");
    expect(printed.exposedPort).toMatchObject({ host: live?.status?.address, port: live?.status?.ports?.[0]?.port });
    expect(result.stdout + result.stderr).not.toContain(kubeToken);
  });

  it("watch --json follows a GameServer to Ready and ends with the host's own word when it shuts down (exit 3)", async (context) => {
    const name = agones.createGameServer({ scenario: "ready" }).metadata.name ?? "";
    const run = cliForTest(context, agonesArgs("watch", name, "--json"), { lifetimeMs: 20_000 });
    await run.line((l) => l.includes('"event":"active"'));
    expect(agones.shutdown(name)).toBe(true);
    const result = await run.exited;
    const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; reason?: string; hostState?: string });
    expect(events.filter((e) => e.event !== "status").map((e) => e.event)).toEqual(["starting", "active", "terminated"].slice(events.some((e) => e.event === "starting") ? 0 : 1));
    expect(events.at(-1)).toMatchObject({ event: "terminated", reason: "shutdown", hostState: "Shutdown" });
    expect(result.code).toBe(ExitCode.TERMINATED);
  });

  it.for([
    { name: "a kubeconfig that does not exist", args: () => agonesArgs("wait", "gs-1", "--kubeconfig", "/nonexistent/kubeconfig"), says: "kubeconfig" },
    { name: "a name that is not a Kubernetes object name", args: () => agonesArgs("wait", "Not_A_Name"), says: "Not_A_Name" },
    { name: "a Hathora flag", args: () => agonesArgs("wait", "gs-1", "--app-id", "app-1"), says: "--app-id is not a flag of --provider agones" },
    { name: "a malformed --active-when", args: () => agonesArgs("wait", "gs-1", "--active-when", "soon"), says: "--active-when must be" },
  ])("$name exits 2 at once", async ({ args, says }, context) => {
    const result = await cliForTest(context, args()).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toContain(says);
  });

  it("a port name the GameServer does not have exits 2, naming the ports it has", async (context) => {
    const name = agones.createGameServer({ scenario: "ready" }).metadata.name ?? "";
    const result = await cliForTest(context, agonesArgs("wait", name, "--port-name", "voice"), { lifetimeMs: 20_000 }).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toContain(`GameServer ${name} has no port named "voice" (it has "default")`);
  });

  it("simulate --provider agones --json prints its URL and kubeconfig, never its token", async (context) => {
    const run = cliForTest(context, ["simulate", "--provider", "agones", "--json"]);
    const first = JSON.parse(await run.line(() => true)) as { provider: string; url: string; kubeconfig: string; namespace: string };
    expect(first).toMatchObject({ provider: "agones", url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), namespace: "default" });
    const token = /token: (\S+)/.exec(readFileSync(first.kubeconfig, "utf8"))?.[1] ?? "";
    run.kill("SIGINT");
    const exit = await run.exited;
    expect(exit.code).toBe(ExitCode.OK);
    expect(token.length).toBeGreaterThan(8);
    expect(exit.stdout + exit.stderr).not.toContain(token);
  });
});

// Alone: the fake API's permissions are the whole server's while it runs.
describe("--provider agones, refused", () => {
  it("a token without the list right exits 5, naming the verb, and prints no credential", async (context) => {
    agones.setPermissions(["get"]);
    context.onTestFinished(() => agones.setPermissions(undefined));
    const result = await cliForTest(context, agonesArgs("wait", "gs-denied-1"), { lifetimeMs: 20_000 }).exited;
    expect(result.code).toBe(ExitCode.DENIED);
    expect(result.stderr).toContain('"list"');
    expect(result.stdout + result.stderr).not.toContain(kubeToken);
  });
});

describe.concurrent("--provider edgegap", () => {
  it("its source's budget is Edgegap's default (16/s), or the gateway's --max-requests-per-second when given", async () => {
    const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: {}, signal: new AbortController().signal };
    const flags = { token: EDGEGAP_TOKEN, portName: "gameport", baseUrl: edgegap.url };
    const byDefault = (await edgegapProvider.source(flags, io)) as EdgegapHttpSource;
    const set = (await edgegapProvider.source({ ...flags, maxRequestsPerSecond: 8 }, io)) as EdgegapHttpSource;
    expect(byDefault.budget.maxRequestsPerSecond).toBe(edgegapProvider.maxRequestsPerSecond);
    expect(byDefault.budget.maxRequestsPerSecond).toBe(16);
    expect(set.budget.maxRequestsPerSecond).toBe(8);
  });

  it("wait prints the deployment's fqdn and external port once it is READY; the token is never printed", async (context) => {
    const id = edgegap.createDeployment({ scenario: "ready" });
    const result = await cliForTest(context, edgegapArgs("wait", id), { lifetimeMs: 20_000, env: { EDGEGAP_TOKEN } }).exited;
    const truth = edgegap.truth(id);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.OK, stdout: `${truth?.fqdn}:${truth?.externalPorts.gameport}\n` });
    expect(result.stderr).not.toContain(EDGEGAP_TOKEN);
  });

  it("a deployment in ERROR exits 3 with Edgegap's own word and its error_detail", async (context) => {
    const id = edgegap.createDeployment({ scenario: "error" });
    const result = await cliForTest(context, edgegapArgs("wait", id, "--token", EDGEGAP_TOKEN), { lifetimeMs: 20_000 }).exited;
    expect(result.code).toBe(ExitCode.TERMINATED);
    expect(result.stderr).toContain(`room ${id} terminated before it became active: error (host state ERROR: ${edgegap.truth(id)?.errorDetail}`);
    expect(result.stderr).not.toContain(EDGEGAP_TOKEN);
  });

  it("a port name the deployment does not have exits 2, naming the ports it has", async (context) => {
    const id = edgegap.createDeployment({ scenario: "ready" });
    const result = await cliForTest(context, ["wait", id, "--provider", "edgegap", "--base-url", edgegap.url, "--token", EDGEGAP_TOKEN, "--port-name", "voice"], { lifetimeMs: 20_000 }).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toContain('the deployment has no port named "voice" (it has "gameport")');
  });

  it("a wrong token exits 5 and prints neither token", async (context) => {
    const id = edgegap.createDeployment({ scenario: "ready" });
    const result = await cliForTest(context, edgegapArgs("wait", id, "--token", "wrong-token-0000"), { lifetimeMs: 20_000 }).exited;
    expect(result.code).toBe(ExitCode.DENIED);
    expect(result.stdout + result.stderr).not.toMatch(/wrong-token-0000|edgegap-org-token/);
  });

  it.for([
    { name: "no token", args: () => edgegapArgs("wait", "abc123"), says: "--token (EDGEGAP_TOKEN) is required" },
    { name: "no port name", args: () => ["wait", "abc123", "--provider", "edgegap", "--token", EDGEGAP_TOKEN], says: "--port-name is required" },
    { name: "an Agones flag", args: () => edgegapArgs("wait", "abc123", "--token", EDGEGAP_TOKEN, "--namespace", "ns"), says: "--namespace is not a flag of --provider edgegap" },
    {
      name: "a gateway webhook secret too short to keep guesses out",
      args: () => ["gateway", "--provider", "edgegap", "--base-url", edgegap.url, "--token", EDGEGAP_TOKEN, "--port-name", "gameport", "--webhook-secret", "short"],
      says: "--webhook-secret must be 16..256 characters",
    },
    {
      name: "a webhook secret for a host that makes no webhook calls",
      args: () => ["gateway", "--base-url", edgegap.url, "--app-id", "app-1", "--webhook-secret", "whsec_0123456789abcdef"],
      says: "--webhook-secret: --provider hathora makes no webhook calls",
    },
  ])("$name exits 2 at once", async ({ args, says }, context) => {
    const result = await cliForTest(context, args()).exited;
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: ExitCode.USAGE, stdout: "" });
    expect(result.stderr).toContain(says);
    expect(result.stderr).not.toContain(EDGEGAP_TOKEN);
  });
});

describe.concurrent("demo --provider edgegap", () => {
  it.for([
    { name: "polling", args: [] as string[], gateway: false },
    { name: "through a gateway fed by webhooks", args: ["--gateway"], gateway: true },
  ])("$name: exits 0 with every deployment matching the fake's truth", async ({ args, gateway }, context) => {
    const result = await cliForTest(context, ["demo", "--provider", "edgegap", "--json", "--time-scale", "50", ...args], { lifetimeMs: 20_000 }).exited;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(ExitCode.OK);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "") as { rooms: number; matching: number; timedOut: boolean; gateway?: { hints: { sent: number } }; results: Array<{ kind: string; reported: { status: string; reason?: string; detail?: string } }> };
    expect(summary).toMatchObject({ timedOut: false, rooms: 10, matching: 10 });
    expect(summary.results.filter((r) => r.kind === "error").map((r) => r.reported)).toEqual(Array(2).fill({ status: "terminated", reason: "error", detail: "Pull image timeout exceeded", moved: false }));
    expect(summary.gateway?.hints.sent).toBe(gateway ? 10 : undefined);
  });
});
