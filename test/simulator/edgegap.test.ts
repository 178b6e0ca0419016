/**
 * The Edgegap source against the fake Edgegap, over real HTTP on loopback: active, error with detail,
 * terminated, not found by 404 and by 400; the fake's create, stop, auth, rate limits and webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoomTerminatedError } from "../../src/core/errors.js";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { edgegapWebhooks, readWebhook } from "../../src/providers/edgegap/webhooks.js";
import { EdgegapSimulator } from "../../src/simulator/edgegap/simulator.js";
import type { TerminatedEvent } from "../../src/watch/events.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { scriptedServer } from "../helpers/http-server.js";
import { conditions, failure } from "../helpers/waiting.js";

const TOKEN = "sim-org-token-0123456789";
const SECRET = "webhook-secret-0123456789abcdef";
let sim: EdgegapSimulator;
beforeAll(async () => {
  // TERMINATING lasts 0.5..0.75 s real: a watcher looking every 100 ms sees it, however loaded the machine.
  sim = await EdgegapSimulator.start({ seed: 7, timeScale: 40, token: TOKEN, readyMedianMs: 4_000, terminatingMs: [20_000, 30_000] });
});
afterAll(async () => {
  await sim.close();
});

const source = (s: EdgegapSimulator = sim, options: { hostField?: "fqdn" | "public_ip" } = {}) =>
  new EdgegapHttpSource({ token: TOKEN, portName: "gameport", baseUrl: s.url, ...options });
const api = (path: string, init: RequestInit = {}) => fetch(`${sim.url}${path}`, { ...init, headers: { authorization: `token ${TOKEN}`, "content-type": "application/json", ...init.headers } });
const createBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ application: "game", version: "v1", users: [{ user_type: "ip_address", user_data: { ip_address: "1.2.3.4" } }], ...extra });

describe("EdgegapHttpSource against the fake Edgegap", () => {
  it("waitForActive reaches active at the truth's fqdn and the named port's external", async () => {
    const id = sim.createDeployment();
    const connection = await waitForActive({ roomId: id, source: source(), timeoutMs: 20_000 });
    const truth = sim.truth(id);
    expect(truth?.status).toBe("READY");
    expect(connection.exposedPort).toEqual({ host: `${id}.localhost`, port: truth?.externalPorts.gameport, transportType: "udp", name: "gameport" });
    expect(truth?.history.map((e) => e.status)).toEqual(["INITIALIZING", "SEEKING", "SEEKED", "SCANNING", "DEPLOYING", "READY"]);
  });

  it("uses public_ip when asked", async () => {
    const id = sim.createDeployment();
    const connection = await waitForActive({ roomId: id, source: source(sim, { hostField: "public_ip" }), timeoutMs: 20_000 });
    expect(connection.exposedPort.host).toBe("127.0.0.1");
  });

  it("an ERROR deployment ends the wait with reason error, hostState ERROR and its error_detail", async () => {
    const id = sim.createDeployment({ scenario: "error" });
    const error = await failure(waitForActive({ roomId: id, source: source(), timeoutMs: 20_000 }));
    expect(error).toBeInstanceOf(RoomTerminatedError);
    expect(error).toMatchObject({ reason: "error", hostState: "ERROR", detail: "Pull image timeout exceeded" });
  });

  it("a stopped deployment is seen terminating (shutdown) through a Fleet, and DELETE answers 200 then 410", async () => {
    const fleet = new Fleet({ source: source(), activePollIntervalMs: 100 });
    const id = sim.createDeployment();
    await waitForActive({ roomId: id, fleet, timeoutMs: 20_000 });
    const watcher = new RoomWatcher({ roomId: id, fleet });
    const ended = new Promise<TerminatedEvent>((resolve) => watcher.once("terminated", resolve));
    watcher.start();
    const stop = await api(`/v1/stop/${id}`, { method: "DELETE" });
    expect(stop.status).toBe(200);
    expect(await stop.json()).toMatchObject({ deployment_summary: { request_id: id, current_status: "Status.TERMINATING" } });
    const event = await ended;
    expect(event).toMatchObject({ reason: "shutdown", hostState: "TERMINATING" });
    const done = conditions();
    const timer = setInterval(done.notify, 20);
    await done.until(() => sim.truth(id)?.status === "TERMINATED");
    clearInterval(timer);
    expect((await api(`/v1/stop/${id}`, { method: "DELETE" })).status).toBe(410);
    const terminated = await failure(waitForActive({ roomId: id, fleet, timeoutMs: 20_000 }));
    expect(terminated).toMatchObject({ reason: "destroyed", hostState: "TERMINATED" });
    await watcher.stop();
  });

  it.each([404, 400] as const)("an unknown request id answered %i ends the wait as not_found", async (unknownRequestStatus) => {
    const other = await EdgegapSimulator.start({ seed: 8, token: TOKEN, unknownRequestStatus });
    try {
      const response = await fetch(`${other.url}/v1/status/ffffffffffff`, { headers: { authorization: `token ${TOKEN}` } });
      expect(response.status).toBe(unknownRequestStatus);
      const error = await failure(waitForActive({ roomId: "ffffffffffff", source: source(other), timeoutMs: 20_000, notFoundGraceMs: 0 }));
      expect(error).toMatchObject({ reason: "not_found" });
    } finally {
      await other.close();
    }
  });
});

describe("the fake Edgegap", () => {
  it("POST /v2/deployments answers 202 with only the request_id; a bad body 400; a bad token 401", async () => {
    const created = await api("/v2/deployments", { method: "POST", body: createBody() });
    expect(created.status).toBe(202);
    const body = (await created.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["request_id"]);
    expect(sim.truth(String(body.request_id))?.status).toBe("INITIALIZING");
    expect((await api("/v2/deployments", { method: "POST", body: JSON.stringify({ application: "game" }) })).status).toBe(400);
    expect((await api("/v2/deployments", { method: "POST", body: "{" })).status).toBe(400);
    const refused = await fetch(`${sim.url}/v1/status/${String(body.request_id)}`, { headers: { authorization: "token wrong" } });
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain("wrong");
  });

  it("a stop asked for while starting answers 202 and takes effect at READY", async () => {
    const id = sim.createDeployment();
    expect((await api(`/v1/stop/${id}`, { method: "DELETE" })).status).toBe(202);
    const done = conditions();
    const timer = setInterval(done.notify, 20);
    await done.until(() => sim.truth(id)?.status === "TERMINATED");
    clearInterval(timer);
    expect(sim.truth(id)?.history.map((e) => e.status).slice(-3)).toEqual(["READY", "TERMINATING", "TERMINATED"]);
  });

  it("answers 429 past 20 status requests in a second, and during a burst", async () => {
    const id = sim.createDeployment();
    const statuses = await Promise.all(Array.from({ length: 30 }, () => api(`/v1/status/${id}`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    const other = await EdgegapSimulator.start({ seed: 9, token: TOKEN });
    try {
      const fresh = other.createDeployment();
      other.rateLimitBurst("status", 60_000);
      const r = await fetch(`${other.url}/v1/status/${fresh}`, { headers: { authorization: `token ${TOKEN}` } });
      expect(r.status).toBe(429);
      expect(r.headers.get("retry-after")).toBeNull();
    } finally {
      await other.close();
    }
  });

  it("malformed bodies break the documented shape (a missing field is an essential one)", async () => {
    const other = await EdgegapSimulator.start({ seed: 10, token: TOKEN, faults: { malformedRate: 1 } });
    try {
      const id = other.createDeployment();
      const s = source(other);
      for (let i = 0; i < 6; i++) {
        const error = await failure(s.poll(id, { signal: new AbortController().signal }));
        expect(error).toMatchObject({ code: "RW_INVALID_PAYLOAD" });
      }
      expect(other.faultCounts().malformed).toBe(6);
    } finally {
      await other.close();
    }
  });
});

describe("webhooks from the fake Edgegap", () => {
  let receiver: Awaited<ReturnType<typeof scriptedServer>>;
  const calls: Array<{ path: string; body: string }> = [];
  const arrived = conditions();
  beforeAll(async () => {
    receiver = await scriptedServer();
    receiver.handle((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        calls.push({ path: req.url ?? "", body });
        res.writeHead(204).end();
        arrived.notify();
      });
    });
  });
  afterAll(async () => {
    await receiver.close();
  });

  it("calls webhook_on_ready and webhook_on_terminated once each, with the status body, readable by readWebhook", async () => {
    const created = await api("/v2/deployments", { method: "POST", body: createBody(edgegapWebhooks(receiver.url, SECRET)) });
    const { request_id: id } = (await created.json()) as { request_id: string };
    await arrived.until(() => calls.some((c) => c.path.endsWith("/ready")));
    expect(sim.truth(id)?.status).toBe("READY");
    expect((await api(`/v1/stop/${id}`, { method: "DELETE" })).status).toBe(200);
    await arrived.until(() => calls.some((c) => c.path.endsWith("/terminated")));
    const mine = calls.filter((c) => c.body.includes(id));
    expect(mine.map((c) => readWebhook({ path: c.path, body: c.body, secret: SECRET }))).toEqual([
      { requestId: id, event: "ready" },
      { requestId: id, event: "terminated" },
    ]);
    expect(JSON.parse(mine[0]!.body)).toMatchObject({ request_id: id, current_status: "Status.READY", running: true });
  });

  it("calls webhook_on_error for an ERROR deployment", async () => {
    const id = sim.createDeployment({ scenario: "error", webhooks: { error: edgegapWebhooks(receiver.url, SECRET).webhook_on_error.url } });
    await arrived.until(() => calls.some((c) => c.body.includes(id)));
    expect(JSON.parse(calls.find((c) => c.body.includes(id))!.body)).toMatchObject({ current_status: "Status.ERROR", error: true, error_detail: "Pull image timeout exceeded" });
  });

  it("drops webhooks as told, and forges one for a deployment that is not ready", async () => {
    const other = await EdgegapSimulator.start({ seed: 11, token: TOKEN, timeScale: 40, readyMedianMs: 2_000, webhookFaults: { dropRate: 1 } });
    try {
      const urls = edgegapWebhooks(receiver.url, SECRET);
      const id = other.createDeployment({ webhooks: { ready: urls.webhook_on_ready.url } });
      const polled = await waitForActive({ roomId: id, source: source(other), timeoutMs: 20_000 });
      expect(polled.exposedPort.port).toBe(other.truth(id)?.externalPorts.gameport);
      expect(other.webhookCounts()).toMatchObject({ dropped: 1, sent: 0 });
      const starting = other.createDeployment({ webhooks: { ready: urls.webhook_on_ready.url } });
      other.forgeWebhook(starting, "ready");
      await arrived.until(() => calls.some((c) => c.body.includes(starting)));
      expect(JSON.parse(calls.find((c) => c.body.includes(starting))!.body)).toMatchObject({ request_id: starting, current_status: "Status.INITIALIZING" });
      expect(other.webhookCounts()).toMatchObject({ forged: 1, sent: 1 });
    } finally {
      await other.close();
    }
  });
});
