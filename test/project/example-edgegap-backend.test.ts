/**
 * examples/edgegap-backend.mjs as a user runs it (node, importing the built package by name), pointed at
 * a fake Edgegap and a real gateway in this process, on loopback. The gateway polls a minute apart, so a
 * deployment answered within the test's time was found by the webhook the example's create call named.
 */
import { afterEach, describe, expect, it, type TestContext } from "vitest";
import { Gateway } from "../../src/gateway/server.js";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { edgegapWebhookReceiver } from "../../src/providers/edgegap/webhooks.js";
import { EdgegapSimulator } from "../../src/simulator/edgegap/simulator.js";
import { type CliProcess, killAllCli, spawnChild } from "../helpers/cli-process.js";

const TOKEN = "edgegap_org_token_example_51b7";
const SECRET = "whsec_example_backend_0123456789";

afterEach(async () => {
  await killAllCli();
});

async function startExample(context: TestContext, options: { errorProbability: number }): Promise<{ run: CliProcess; url: string; simulator: EdgegapSimulator; gateway: Gateway }> {
  const simulator = await EdgegapSimulator.start({ seed: 4, timeScale: 20, token: TOKEN, errorProbability: options.errorProbability });
  const gateway = await Gateway.start({
    source: new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: "gameport" }),
    webhooks: [edgegapWebhookReceiver(SECRET)],
    pollOptions: { pollIntervalMs: 60_000, maxPollIntervalMs: 60_000 },
    probeUpstream: false,
  });
  const run = spawnChild(process.execPath, ["examples/edgegap-backend.mjs"], {
    env: { EDGEGAP_BASE_URL: simulator.url, EDGEGAP_TOKEN: TOKEN, GATEWAY_URL: gateway.url, WEBHOOK_SECRET: SECRET },
  });
  context.onTestFinished(async () => {
    run.kill();
    await run.exited;
    await simulator.close();
    await gateway.close();
  });
  const listening = await run.line((l) => l.startsWith("listening on "));
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(listening)?.[1];
  if (url === undefined) throw new Error(`unexpected first line: ${listening}`);
  return { run, url, simulator, gateway };
}

describe("examples/edgegap-backend.mjs", () => {
  it("POST /matches creates a deployment with webhooks at the gateway and answers with its address once the ready webhook is verified", async (context) => {
    const { run, url, simulator, gateway } = await startExample(context, { errorProbability: 0 });
    const response = await fetch(`${url}/matches`, { method: "POST" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { requestId: string; host: string; port: number; transportType: string };
    const truth = simulator.truth(body.requestId);
    expect(truth?.status).toBe("READY");
    expect(body).toEqual({ requestId: body.requestId, host: truth?.fqdn, port: truth?.externalPorts.gameport, transportType: "udp" });
    // The create call named the gateway's three webhook URLs under its secret path.
    expect(truth?.webhooks).toEqual({
      ready: `${gateway.httpUrl}/webhooks/edgegap/${SECRET}/ready`,
      error: `${gateway.httpUrl}/webhooks/edgegap/${SECRET}/error`,
      terminated: `${gateway.httpUrl}/webhooks/edgegap/${SECRET}/terminated`,
    });
    expect(simulator.webhookCounts()).toMatchObject({ sent: 1, delivered: 1 });
    // The gateway's first look (starting) and the one the ready webhook asked for.
    expect(gateway.stats.upstreamRequests).toBe(2);
    expect(await run.line((l) => l.includes("joinable at"))).toBe(`deployment ${body.requestId}: joinable at ${body.host}:${body.port}`);

    run.kill("SIGTERM");
    const exit = await run.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    expect(exit.stdout).not.toContain(TOKEN);
    expect(exit.stdout).not.toContain(SECRET);
  });

  it("a deployment that fails answers 503 with Edgegap's error_detail, found by the error webhook", async (context) => {
    const { run, url, simulator } = await startExample(context, { errorProbability: 1 });
    const response = await fetch(`${url}/matches`, { method: "POST" });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { requestId: string; code: string; message: string };
    expect(simulator.truth(body.requestId)?.status).toBe("ERROR");
    expect(body.code).toBe("RW_ROOM_TERMINATED");
    expect(body.message).toContain("Pull image timeout exceeded");
    expect(simulator.webhookCounts()).toMatchObject({ sent: 1, delivered: 1 });
    run.kill("SIGTERM");
    expect((await run.exited).code).toBe(0);
  });
});
