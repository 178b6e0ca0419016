/**
 * Edgegap's webhooks as hints, through a real gateway in front of the fake Edgegap over loopback: a
 * webhook on the gateway's secret path is worth one verifying look at a watched deployment, never a
 * change of state by itself; a wrong secret or a bad path is answered like no route at all and costs
 * nothing; a missed webhook loses nothing, since polling goes on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { edgegapWebhookReceiver, edgegapWebhooks } from "../../src/providers/edgegap/webhooks.js";
import { Gateway } from "../../src/gateway/server.js";
import { EdgegapSimulator } from "../../src/simulator/edgegap/simulator.js";
import { WebSocketSource } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { resolvePollOptions } from "../../src/watch/options.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";

const TOKEN = "edgegap-org-token-webhooks";
const SECRET = "whsec_0123456789abcdef0123";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: { pollIntervalMs: number; dropRate?: number; timeScale?: number }) {
  const simulator = await EdgegapSimulator.start({ seed: 11, timeScale: options.timeScale ?? 20, token: TOKEN, webhookFaults: { dropRate: options.dropRate ?? 0 } });
  cleanups.push(() => simulator.close());
  const gateway = await Gateway.start({
    source: new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: "gameport" }),
    webhooks: [edgegapWebhookReceiver(SECRET)],
    pollOptions: { pollIntervalMs: options.pollIntervalMs, maxPollIntervalMs: options.pollIntervalMs },
    probeUpstream: false,
  });
  cleanups.push(() => gateway.close());
  const fleet = new Fleet();
  cleanups.push(() => fleet.close());
  const source = new WebSocketSource({ url: gateway.url });
  const urls = (hooks: ReturnType<typeof edgegapWebhooks>) => ({ ready: hooks.webhook_on_ready.url, error: hooks.webhook_on_error.url, terminated: hooks.webhook_on_terminated.url });
  const deploy = () => simulator.createDeployment({ scenario: "ready", webhooks: urls(edgegapWebhooks(gateway.httpUrl, SECRET)) });
  return { simulator, gateway, fleet, source, deploy };
}

const post = (url: string, body: string) => fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });

describe("Edgegap webhooks at the gateway", () => {
  it("a ready webhook brings the deployment's next look forward: active long before the next poll, at one extra request", async () => {
    // A poll a minute apart: only the webhook can make the room active within the test's time.
    const { simulator, gateway, fleet, source, deploy } = await setUp({ pollIntervalMs: 60_000 });
    const id = deploy();
    const connection = await waitForActive({ roomId: id, source, fleet, timeoutMs: 10_000 });
    const truth = simulator.truth(id);
    expect(connection.exposedPort).toMatchObject({ host: truth?.fqdn, port: truth?.externalPorts.gameport });
    // The first look (starting), and the one the webhook asked for.
    expect(gateway.stats.upstreamRequests).toBe(2);
    expect(simulator.webhookCounts()).toMatchObject({ sent: 1 });
  });

  it("with every webhook lost, polling still finds the deployment active", async () => {
    const { simulator, fleet, source, deploy } = await setUp({ pollIntervalMs: 200, dropRate: 1 });
    const id = deploy();
    const connection = await waitForActive({ roomId: id, source, fleet, timeoutMs: 10_000 });
    expect(connection.exposedPort.port).toBe(simulator.truth(id)?.externalPorts.gameport);
    expect(simulator.webhookCounts()).toMatchObject({ sent: 0 });
  });

  it("a wrong secret, a bad path, a bad body or an unwatched deployment cost no request; a forged ready costs one look and changes nothing", async () => {
    // Real time: the deployment takes seconds to start, so the forged "ready" comes while it is starting.
    const { simulator, gateway, fleet, source, deploy } = await setUp({ pollIntervalMs: 60_000, timeScale: 1 });
    const id = deploy();
    const events: string[] = [];
    const subscription = fleet.subscribe(source, id, resolvePollOptions({}), {
      onResult: (result) => events.push(result.observation.kind),
      onTransientFailure: () => undefined,
      onFatal: () => undefined,
    });
    cleanups.push(() => subscription.unsubscribe());
    await expect.poll(() => events.length, { interval: 10 }).toBeGreaterThan(0);
    const before = gateway.stats.upstreamRequests;
    const base = gateway.httpUrl;
    const body = JSON.stringify({ request_id: id });
    expect((await post(`${base}/webhooks/edgegap/wrong_secret_0000000000/ready`, body)).status).toBe(404);
    expect((await post(`${base}/webhooks/edgegap/${SECRET}/exploded`, body)).status).toBe(404);
    expect((await post(`${base}/webhooks/edgegap/${SECRET}/ready`, "not json")).status).toBe(400);
    expect((await post(`${base}/webhooks/edgegap/${SECRET}/ready`, JSON.stringify({ request_id: "0123456789ab" }))).status).toBe(404);
    expect(gateway.stats.upstreamRequests).toBe(before);
    // Forged while it is still starting: one look, which says starting.
    expect(simulator.truth(id)?.status).not.toBe("READY");
    expect((await post(`${base}/webhooks/edgegap/${SECRET}/ready`, body)).status).toBe(202);
    await expect.poll(() => gateway.stats.upstreamRequests, { interval: 10 }).toBe(before + 1);
    expect(events.at(-1)).toBe("starting");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="unauthorized"\} 2/);
    expect(metrics).toMatch(/room_watcher_gateway_hints_total\{outcome="invalid"\} 1/);
    expect(metrics).not.toContain(SECRET);
  });
});
