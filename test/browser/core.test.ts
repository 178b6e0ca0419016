/**
 * The core in real Chromium (issue 16, part 1): a page on its own origin imports the bundled
 * `room-watcher` by name and runs waitForActive and a RoomWatcher against the simulator with the
 * browser's fetch (cross-origin, so through CORS), and a WebSocketSource with the browser's WebSocket
 * through an open gateway. What the page reports is checked against the simulator's ground truth.
 * Needs Chromium (bash scripts/chromium.sh install); fails, naming that command, without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Gateway } from "../../src/gateway/server.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { openCorePage, type PageCore, serveSite, type Site, useChromium } from "../helpers/browser.js";

const APP = "app-browser";
// Simulated time runs 100x faster and the page polls often. A cold start takes 200 to 300 ms of real time:
// the page's first look must come while the room is still starting (a slow page load on a busy machine
// took longer than the default 50 ms), and the room still turns active soon.
const FAST = { pollIntervalMs: 20, maxPollIntervalMs: 50, activePollIntervalMs: 30, initialRetryDelayMs: 5, maxRetryDelayMs: 40, maxRetryAfterMs: 50 };

const chromium = useChromium();
let site: Site;
let sim: Simulator;

beforeAll(async () => {
  [site, sim] = await Promise.all([serveSite(), Simulator.start({ seed: 16, timeScale: 100, coldStartMedianMs: 30_000, neverReadyProbability: 0, appId: APP })]);
});

afterAll(async () => {
  await Promise.all([site.close(), sim.close()]);
});

describe("the core in Chromium, against the simulator", () => {
  it("the page and the simulator are different origins, and the page loads the core by its package name", async () => {
    expect(new URL(site.origin).origin).not.toBe(new URL(sim.url).origin);
    const page = await openCorePage(chromium, site);
    const names = await page.evaluate(() => Object.keys((globalThis as unknown as { roomWatcher: PageCore }).roomWatcher).sort());
    expect(names).toEqual(expect.arrayContaining(["RoomWatcher", "WebSocketSource", "waitForActive", "HathoraHttpSource"]));
    expect(site.requests).toEqual(["/", "/room-watcher.js"]);
  });

  it("waitForActive resolves, through cross-origin fetch, the port the simulator gave the room", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const connection = await page.evaluate(
      async ({ roomId, appId, baseUrl, fast }) => {
        const { waitForActive } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
        const active = await waitForActive({ roomId, appId, baseUrl, timeoutMs: 5_000, ...fast });
        return { exposedPort: active.exposedPort, additionalExposedPorts: active.additionalExposedPorts, origin: (globalThis as unknown as { location: { origin: string } }).location.origin };
      },
      { roomId, appId: APP, baseUrl: sim.url, fast: FAST },
    );
    const truth = sim.truth(roomId);
    expect(truth?.status).toBe("active");
    expect(connection.exposedPort).toEqual(truth?.exposedPort);
    expect(connection.additionalExposedPorts).toEqual([]);
    expect(connection.origin).toBe(site.origin);
    expect(sim.requestCount(roomId, "connectionInfo")).toBeGreaterThan(1); // it saw the room starting, then active
  });

  it("with a token (an Authorization header) the browser preflights each request, and the simulator lets it through", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const port = await page.evaluate(
      async ({ roomId, appId, baseUrl, fast }) => {
        const { waitForActive } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
        return (await waitForActive({ roomId, appId, baseUrl, token: "page-token", timeoutMs: 5_000, ...fast })).exposedPort;
      },
      { roomId, appId: APP, baseUrl: sim.url, fast: FAST },
    );
    expect(port).toEqual(sim.truth(roomId)?.exposedPort);
  });

  it("a RoomWatcher in the page reports starting, active, and the move after its process crashes, with the new port", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const ports: number[] = [];
    // The page tells the test each event as it happens; on the first active, the test crashes the room's process.
    await page.exposeFunction("reportEvent", (name: string, port: number | undefined) => {
      if (name !== "active" || port === undefined) return;
      ports.push(port);
      if (ports.length === 1) {
        const processId = sim.processOf(roomId);
        if (processId !== undefined) sim.crashProcess(processId);
      }
    });
    const events = await page.evaluate(
      async ({ roomId, appId, baseUrl, fast }) => {
        const { RoomWatcher } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
        const report = (globalThis as unknown as { reportEvent: (name: string, port?: number) => Promise<void> }).reportEvent;
        const seen: Array<{ event: string; port?: number; moved?: boolean; rescheduled?: boolean }> = [];
        const watcher = new RoomWatcher({ roomId, appId, baseUrl, timeoutMs: 5_000, ...fast });
        const moved = new Promise<void>((resolve, reject) => {
          watcher.on("starting", (e) => {
            seen.push({ event: "starting", rescheduled: e.rescheduled });
            void report("starting");
          });
          watcher.on("active", (e) => {
            seen.push({ event: "active", port: e.exposedPort.port, moved: e.moved });
            void report("active", e.exposedPort.port);
            if (e.moved) resolve();
          });
          watcher.on("terminated", (e) => reject(new Error(`terminated: ${e.reason}`)));
        });
        watcher.start();
        await moved;
        await watcher.stop();
        return { seen, state: watcher.state };
      },
      { roomId, appId: APP, baseUrl: sim.url, fast: FAST },
    );
    const truth = sim.truth(roomId);
    expect(events.seen[0]).toEqual({ event: "starting", rescheduled: false });
    expect(events.seen[1]).toEqual({ event: "active", port: ports[0], moved: false });
    expect(events.seen.at(-1)).toEqual({ event: "active", port: truth?.exposedPort?.port, moved: true });
    expect(truth?.exposedPort?.port).not.toBe(ports[0]);
    expect(events.state).toMatchObject({ status: "terminated", reason: "stopped" });
  });
});

describe("the WebSocket source in Chromium, through an open gateway", () => {
  let gateway: Gateway;

  beforeAll(async () => {
    // No client token: a browser cannot send one in a WebSocket handshake (tickets come with issue 16, part 2).
    gateway = await Gateway.start({ baseUrl: sim.url, appId: APP, allowedOrigins: [site.origin], defaultMetrics: false });
  });

  afterAll(async () => {
    await gateway.close();
  });

  it("a RoomWatcher on a WebSocketSource, using the browser's WebSocket, hears the room turn active", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const result = await page.evaluate(
      async ({ roomId, url }) => {
        const { RoomWatcher, WebSocketSource } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
        const source = new WebSocketSource({ url, webSocket: "global" });
        const connected: number[] = [];
        source.on("connected", (e) => connected.push(e.at));
        const watcher = new RoomWatcher({ roomId, source, timeoutMs: 5_000 });
        const active = await new Promise<{ port: number; host: string }>((resolve, reject) => {
          watcher.on("active", (e) => resolve({ port: e.exposedPort.port, host: e.exposedPort.host }));
          watcher.on("terminated", (e) => reject(new Error(`terminated: ${e.reason}`)));
          watcher.start();
        });
        await watcher.stop();
        return { active, connections: connected.length, pendingTimers: source.pendingTimers };
      },
      { roomId, url: gateway.url },
    );
    const truth = sim.truth(roomId);
    expect(result.active).toEqual({ port: truth?.exposedPort?.port, host: truth?.exposedPort?.host });
    expect(result.connections).toBe(1);
    expect(result.pendingTimers).toBe(0);
  });

  it("a page of an origin the gateway does not list is refused at the handshake", async () => {
    const other = await serveSite();
    try {
      // Chromium logs the refused handshake (403) as a console error: expected here, and only here.
      const page = await openCorePage(chromium, other, { allowConsoleErrors: [/WebSocket connection to .* failed/] });
      const codes = await page.evaluate(async (url) => {
        const { RoomWatcher, WebSocketSource } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
        const source = new WebSocketSource({ url, webSocket: "global", initialReconnectDelayMs: 1_000 });
        const disconnected = new Promise<number>((resolve) => source.on("disconnected", (e) => resolve(e.code)));
        const watcher = new RoomWatcher({ roomId: "room-1", source, timeoutMs: 5_000 }).start();
        const code = await disconnected;
        await watcher.stop();
        return code;
      }, gateway.url);
      expect(codes).toBe(1006);
    } finally {
      await other.close();
    }
  });
});
