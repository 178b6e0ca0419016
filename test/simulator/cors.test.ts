/**
 * CORS over plain HTTP (the browser's side is test/browser/core.test.ts): the Hathora simulator answers
 * preflights and puts the CORS headers on every answer, errors and injected 429s included, as
 * api.hathora.dev must for its browser SDK; preflights need no token, meet no fault and are not counted.
 * The Edgegap and Kubernetes (Agones) simulators answer none, as their real hosts (docs/simulator.md, "CORS").
 */
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgonesSimulator } from "../../src/simulator/agones/simulator.js";
import { EdgegapSimulator } from "../../src/simulator/edgegap/simulator.js";
import { Simulator } from "../../src/simulator/simulator.js";

const APP = "app-cors";
const PAGE = "http://127.0.0.1:9"; // any other origin: the simulator does not look at it

function preflight(url: string, method: string, headers = "authorization"): Promise<Response> {
  return fetch(url, { method: "OPTIONS", headers: { origin: PAGE, "access-control-request-method": method, "access-control-request-headers": headers } });
}

describe("the Hathora simulator answers CORS", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await Simulator.start({ seed: 3, timeScale: 100, appId: APP, token: "admin-token" });
  });
  afterAll(() => sim.close());

  it("a preflight for connection info: 204 with the methods, Authorization among the headers, and a max age; not counted", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const response = await preflight(`${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`, "GET", "authorization, accept");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(response.headers.get("access-control-allow-headers")?.split(", ")).toEqual(["authorization", "content-type"]);
    expect(response.headers.get("access-control-max-age")).toBe("600");
    expect(await response.text()).toBe("");
    expect(sim.requestCount(roomId)).toBe(0);
  });

  it("a preflight for an admin call needs no token (browsers send none with it), and meets no fault", async () => {
    sim.setFaults({ errorRates: { 500: 1 } });
    try {
      const response = await preflight(`${sim.url}/rooms/v2/${APP}/create`, "POST", "authorization, content-type");
      expect(response.status).toBe(204);
      expect(sim.faultCounts()).toEqual({});
    } finally {
      sim.setFaults({});
    }
  });

  it("a preflight for a path that is no route is 404, still with the CORS headers", async () => {
    const response = await preflight(`${sim.url}/rooms/v2/${APP}/nope`, "GET");
    expect(response.status).toBe(404);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("OPTIONS that is not a preflight is what it was: 405", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const response = await fetch(`${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`, { method: "OPTIONS" });
    expect(response.status).toBe(405);
  });

  it("the actual request carries Access-Control-Allow-Origin and exposes Retry-After", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const response = await fetch(`${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`, { headers: { origin: PAGE } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-expose-headers")?.split(", ")).toContain("retry-after");
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(1);
  });

  it("an injected 429 carries them too, so a page can read its Retry-After; so does a 401 and a 404", async () => {
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    sim.setRoomFaults(roomId, { rateLimit: { probability: 1, retryAfterSeconds: 2 } });
    const limited = await fetch(`${sim.url}/rooms/v2/${APP}/connectioninfo/${roomId}`, { headers: { origin: PAGE } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("access-control-allow-origin")).toBe("*");
    expect(limited.headers.get("access-control-expose-headers")?.split(", ")).toContain("retry-after");

    const refused = await fetch(`${sim.url}/rooms/v2/${APP}/info/${roomId}`, { headers: { origin: PAGE } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    const missing = await fetch(`${sim.url}/rooms/v2/${APP}/connectioninfo/no-such-room`, { headers: { origin: PAGE } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("the simulators of hosts that do not allow browsers answer no CORS", () => {
  it("Edgegap: a preflight for a status gets no Access-Control-Allow-Origin", async () => {
    const sim = await EdgegapSimulator.start({ seed: 3, token: "edgegap-token" });
    try {
      const response = await preflight(`${sim.url}/v1/status/ffffffffffff`, "GET");
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      const actual = await fetch(`${sim.url}/v1/status/ffffffffffff`, { headers: { origin: PAGE, authorization: "token edgegap-token" } });
      expect(actual.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await sim.close();
    }
  });

  it("Kubernetes (Agones): a preflight gets no Access-Control-Allow-Origin (--cors-allowed-origins is empty by default)", async () => {
    const sim = await AgonesSimulator.start({ seed: 3 });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = httpsRequest(
          `${sim.url}/apis/agones.dev/v1/namespaces/${sim.namespace}/gameservers`,
          { method: "OPTIONS", ca: sim.caPem, headers: { origin: PAGE, "access-control-request-method": "GET", "access-control-request-headers": "authorization" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.headers));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await sim.close();
    }
  });
});
