/**
 * Room tickets in real Chromium (issue 16): a page that cannot send a token waits for its room through the
 * gateway with a ticket minted for it, a page with a forged ticket is refused at the handshake, and
 * examples/browser runs as a user runs it. What the pages show is checked against the simulator's truth.
 * Needs Chromium (bash scripts/chromium.sh install); fails, naming that command, without it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Gateway } from "../../src/gateway/server.js";
import { mintTicket } from "../../src/gateway/ticket.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { openCorePage, type PageCore, serveSite, type Site, useChromium } from "../helpers/browser.js";
import { killAllCli, spawnChild } from "../helpers/cli-process.js";

const APP = "app-tickets";
const SECRET = "browser-ticket-secret-0123456789abcdef";
const TOKEN = "tok_browser_example_51ab";

const chromium = useChromium();
let site: Site;
let sim: Simulator;
let gateway: Gateway;

beforeAll(async () => {
  // Simulated time runs 100x faster; cold starts take 200 to 300 ms of real time (see core.test.ts).
  [site, sim] = await Promise.all([serveSite(), Simulator.start({ seed: 17, timeScale: 100, coldStartMedianMs: 30_000, neverReadyProbability: 0, appId: APP })]);
  gateway = await Gateway.start({ baseUrl: sim.url, appId: APP, ticketSecret: SECRET, allowedOrigins: [site.origin], defaultMetrics: false });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([site.close(), sim.close()]);
});

afterEach(async () => {
  await killAllCli();
});

/** Runs in the page: waits for `roomId` through the gateway with `ticket`, and says how it ended. */
async function waitInPage(args: { roomId: string; url: string; ticket: string }): Promise<{ active?: { host: string; port: number }; failed?: { code: string; reason: string | undefined; closeCode: number | undefined; message: string } }> {
  const { waitForActive, WebSocketSource, RoomWatcherError } = (globalThis as unknown as { roomWatcher: PageCore }).roomWatcher;
  const source = new WebSocketSource({ url: args.url, ticket: args.ticket });
  try {
    const { exposedPort } = await waitForActive({ roomId: args.roomId, source, timeoutMs: 5_000 });
    return { active: { host: exposedPort.host, port: exposedPort.port } };
  } catch (error) {
    if (!(error instanceof RoomWatcherError)) throw error;
    const cause = error.cause as { code?: string; reason?: string; closeCode?: number } | undefined;
    const gatewayError = cause?.code === "RW_GATEWAY" ? cause : (error as unknown as { reason?: string; closeCode?: number; code: string });
    return { failed: { code: gatewayError.code ?? error.code, reason: gatewayError.reason, closeCode: gatewayError.closeCode, message: error.message } };
  }
}

describe("a page with a room ticket, through the gateway", () => {
  it("waits for its room, presenting the ticket as a subprotocol entry, and gets the port the simulator gave the room", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const ticket = mintTicket({ secret: SECRET, rooms: [roomId], ttlMs: 60_000 });
    const result = await page.evaluate(waitInPage, { roomId, url: gateway.url, ticket });
    const truth = sim.truth(roomId);
    expect(truth?.status).toBe("active");
    expect(result).toEqual({ active: { host: truth?.exposedPort?.host, port: truth?.exposedPort?.port } });
  });

  it("a ticket for another room gets that room refused, and costs the gateway no look at it", async () => {
    const page = await openCorePage(chromium, site);
    const { roomId: mine } = sim.createRoom(APP, { scenario: "cold" });
    const { roomId: theirs } = sim.createRoom(APP, { scenario: "cold" });
    const ticket = mintTicket({ secret: SECRET, rooms: [mine], ttlMs: 60_000 });
    const result = await page.evaluate(waitInPage, { roomId: theirs, url: gateway.url, ticket });
    expect(result.failed).toMatchObject({ code: "RW_GATEWAY", reason: "refused" });
    expect(result.failed?.message).toContain("ticket does not name this room");
    expect(sim.requestCount(theirs, "connectionInfo")).toBe(0);
  });

  it("a forged ticket is refused at the handshake with 4403, and the page is told to get a new one", async () => {
    // Chromium logs nothing for a handshake the gateway accepts and then closes with 4403; a page error would fail the test.
    const page = await openCorePage(chromium, site);
    const { roomId } = sim.createRoom(APP, { scenario: "cold" });
    const forged = mintTicket({ secret: "someone-elses-secret-0123456789abcdef", rooms: [roomId], ttlMs: 60_000 });
    const result = await page.evaluate(waitInPage, { roomId, url: gateway.url, ticket: forged });
    expect(result.failed).toMatchObject({ code: "RW_GATEWAY", closeCode: 4403 });
    expect(result.failed?.message).not.toContain(forged);
    expect(sim.requestCount(roomId, "connectionInfo")).toBe(0);
  });
});

describe("examples/browser", () => {
  it("the page asks the backend for a match, waits through the gateway with its ticket and shows where to join", async (context) => {
    const host = await Simulator.start({ seed: 18, timeScale: 100, coldStartMedianMs: 30_000, neverReadyProbability: 0, token: TOKEN, appId: APP });
    const run = spawnChild(process.execPath, ["examples/browser/server.mjs"], {
      env: { HATHORA_BASE_URL: host.url, HATHORA_APP_ID: APP, HATHORA_TOKEN: TOKEN },
    });
    context.onTestFinished(async () => {
      run.kill();
      await run.exited;
      await host.close();
    });
    const url = /^open (http:\/\/127\.0\.0\.1:\d+\/) /.exec(await run.line((l) => l.startsWith("open ")))?.[1];
    expect(url).toBeDefined();

    const page = await chromium.open(url ?? "");
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
    await page.click("#find");
    await page.waitForSelector("#status[data-status=active]");
    const roomId = await page.locator("#room").textContent();
    const truth = host.truth(roomId ?? "");
    expect(truth?.status).toBe("active");
    expect(await page.locator("#address").textContent()).toBe(`${truth?.exposedPort?.host}:${truth?.exposedPort?.port}`);

    run.kill("SIGTERM");
    const exit = await run.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  });
});
