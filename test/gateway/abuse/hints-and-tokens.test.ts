/**
 * Hint floods and token brute force (issue 18, finding 3 and the smaller ones). Through real sockets,
 * on a fake clock: a sustained stream of accepted hints costs at most one look per room per second;
 * one address's hints are throttled, and counted, while another's are served; wrong tokens lock their
 * address out (X-Forwarded-For read only from a trusted proxy), logged once, while others connect;
 * /metrics may need its own token.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createJsonLogger } from "../../../src/gateway/logging.js";
import { DEFAULT_HINT_INTERVAL_MS } from "../../../src/gateway/server.js";
import { GatewayCloseCode } from "../../../src/protocol/close-codes.js";
import { connectRaw } from "../../helpers/ws-client.js";
import { abuseGateway, metric } from "./abuse-gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HINT_TOKEN = "game-server-hint-token";
const CLIENT_TOKEN = "the-client-token";
const ELSEWHERE = "127.0.0.2";

/** One HTTP request to the gateway; resolves with its status. */
function http(port: number, method: string, path: string, options: { readonly token?: string; readonly localAddress?: string; readonly headers?: Record<string, string> } = {}): Promise<number> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, localAddress: options.localAddress, agent: false }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

/** A gateway with one subscriber of room `r`, which stays starting; resolves once its first look has answered. */
async function watchedRoom(options: Parameters<typeof abuseGateway>[0] = {}) {
  const t = await abuseGateway({ hintToken: HINT_TOKEN, ...options });
  t.upstream.activeAt.set("r", Number.POSITIVE_INFINITY);
  const client = await connectRaw(t.gateway.url, { token: options.clientToken });
  cleanups.push(async () => {
    client.ws.close();
    await client.closed;
    expect(await t.close()).toBe(0);
  });
  client.send({ type: "subscribe", roomId: "r" });
  await client.next((m) => m.type === "update");
  return t;
}

describe("hint floods", () => {
  it(`a sustained stream of hints costs at most one look per room per ${DEFAULT_HINT_INTERVAL_MS} ms`, async () => {
    // The same 5 s of a starting room's life, without hints and with one hint every 50 ms.
    const quiet = await watchedRoom();
    await quiet.time.tick(5_000);
    const routine = quiet.upstream.looksAt("r").length;

    const t = await watchedRoom();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      statuses.push(await http(t.gateway.port, "POST", "/hints/r", { token: HINT_TOKEN }));
      await t.time.tick(50);
    }
    expect(new Set(statuses)).toEqual(new Set([202]));
    const looks = t.upstream.looksAt("r");
    // At most one hinted look a second on top of the schedule: 6 in the 5 s from the first (at 0, 1, ... 5 s).
    expect(looks.length).toBeLessThanOrEqual(routine + 6);
    const accepted = await metric(t.gateway, 'room_watcher_gateway_hints_total{outcome="accepted"}');
    const coalesced = await metric(t.gateway, 'room_watcher_gateway_hints_total{outcome="coalesced"}');
    expect(accepted).toBeLessThanOrEqual(6);
    expect(accepted + coalesced).toBe(100);
  });

  it("throttles one address's hints (429, counted) while another address's are served", async () => {
    const t = await watchedRoom({ limits: { maxHintsPerMinutePerAddress: 60 } });
    const statuses: number[] = [];
    for (let i = 0; i < 55; i++) statuses.push(await http(t.gateway.port, "POST", "/hints/r", { token: HINT_TOKEN }));
    // A burst of 50, then one a second.
    expect(statuses.filter((s) => s === 202)).toHaveLength(50);
    expect(statuses.slice(50)).toEqual([429, 429, 429, 429, 429]);
    expect(await http(t.gateway.port, "POST", "/hints/r", { token: HINT_TOKEN, localAddress: ELSEWHERE })).toBe(202);
    expect(await metric(t.gateway, 'room_watcher_gateway_hints_total{outcome="throttled"}')).toBe(5);
    await t.time.tick(1_000);
    expect(await http(t.gateway.port, "POST", "/hints/r", { token: HINT_TOKEN })).toBe(202);
  });
});

describe("token brute force", () => {
  it("locks an address out after too many wrong tokens (429 before any upgrade), logs it once, serves other addresses", async () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
    const t = await abuseGateway({ clientToken: CLIENT_TOKEN, logger: createJsonLogger({ destination }), limits: { maxFailedAuthsPerMinute: 5 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    for (let i = 0; i < 5; i++) {
      const guess = await connectRaw(t.gateway.url, { token: `guess-${i}` });
      expect((await guess.closed).code).toBe(GatewayCloseCode.UNAUTHORIZED);
    }
    // Locked out: refused before the upgrade, even with the right token, so it costs no connection.
    await expect(connectRaw(t.gateway.url, { token: "guess-5" })).rejects.toThrow("HTTP 429");
    await expect(connectRaw(t.gateway.url, { token: CLIENT_TOKEN })).rejects.toThrow("HTTP 429");
    const player = await connectRaw(t.gateway.url, { token: CLIENT_TOKEN, localAddress: ELSEWHERE });
    await player.next((m) => m.type === "welcome");
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="auth_lockout"}')).toBe(2);
    // Five failures, one log line (the rest counted in the next line a minute on); no token in any.
    const refusedLines = lines.filter((l) => l.includes("refused: unauthorized"));
    expect(refusedLines).toHaveLength(1);
    expect(lines.join("\n")).not.toContain("guess-");
    // The rate falls back: one more try after 12 s (5 a minute).
    await t.time.tick(12_000);
    const again = await connectRaw(t.gateway.url, { token: CLIENT_TOKEN });
    await again.next((m) => m.type === "welcome");
    for (const c of [player, again]) c.ws.close();
    await Promise.all([player.closed, again.closed]);
  });

  it("reads X-Forwarded-For only from a trusted proxy: behind one, each client is locked out alone; otherwise a rotating header changes nothing", async () => {
    const behind = await abuseGateway({ clientToken: CLIENT_TOKEN, trustedProxies: ["127.0.0.1"], limits: { maxFailedAuthsPerMinute: 2 } });
    cleanups.push(async () => expect(await behind.close()).toBe(0));
    const from = (address: string) => ({ headers: { "x-forwarded-for": `198.51.100.1, ${address}` } });
    for (let i = 0; i < 2; i++) await (await connectRaw(behind.gateway.url, { token: "wrong", ...from("203.0.113.5") })).closed;
    await expect(connectRaw(behind.gateway.url, { token: CLIENT_TOKEN, ...from("203.0.113.5") })).rejects.toThrow("HTTP 429");
    const other = await connectRaw(behind.gateway.url, { token: CLIENT_TOKEN, ...from("203.0.113.6") });
    await other.next((m) => m.type === "welcome");
    other.ws.close();
    await other.closed;

    const direct = await abuseGateway({ clientToken: CLIENT_TOKEN, limits: { maxFailedAuthsPerMinute: 2 } });
    cleanups.push(async () => expect(await direct.close()).toBe(0));
    for (let i = 0; i < 2; i++) await (await connectRaw(direct.gateway.url, { token: "wrong", ...from(`203.0.113.${i}`) })).closed;
    await expect(connectRaw(direct.gateway.url, { token: CLIENT_TOKEN, ...from("203.0.113.99") })).rejects.toThrow("HTTP 429");
  });

  it("counts wrong hint tokens the same way", async () => {
    const t = await watchedRoom({ limits: { maxFailedAuthsPerMinute: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await http(t.gateway.port, "POST", "/hints/r", { token: `guess-${i}` }));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(await http(t.gateway.port, "POST", "/hints/r", { token: HINT_TOKEN, localAddress: ELSEWHERE })).toBe(202);
  });
});

describe("/metrics", () => {
  it("needs its own token when one is set", async () => {
    const t = await abuseGateway({ metricsToken: "scraper-token" });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    expect(await http(t.gateway.port, "GET", "/metrics")).toBe(401);
    expect(await http(t.gateway.port, "GET", "/metrics", { token: "wrong" })).toBe(401);
    expect(await http(t.gateway.port, "GET", "/metrics", { token: "scraper-token" })).toBe(200);
    expect(await http(t.gateway.port, "GET", "/healthz")).toBe(200);
  });
});
