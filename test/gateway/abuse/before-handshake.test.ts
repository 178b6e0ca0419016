/**
 * Sockets before the handshake (issue 18, finding 2): anyone, with no token, can open them. Through real
 * sockets, on a fake clock: a slowloris or an idle socket is destroyed at the handshake deadline; a refused
 * upgrade whose peer ignores the close is destroyed after the grace; sockets not yet upgraded are limited
 * in all and per address; each refusal is counted; and a well-behaved client (from another address) and
 * /healthz are served meanwhile. The socket limits fit under the descriptor limit, or the gateway says so.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createJsonLogger } from "../../../src/gateway/logging.js";
import { REFUSED_SOCKET_GRACE_MS } from "../../../src/gateway/pending-sockets.js";
import { GatewayCloseCode } from "../../../src/protocol/close-codes.js";
import { connectRaw, handshakeHead, rawSocket } from "../../helpers/ws-client.js";
import { abuseGateway, eventually, metric } from "./abuse-gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Another client: another loopback address. */
const ELSEWHERE = "127.0.0.2";

function healthz(port: number, localAddress = ELSEWHERE): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz", localAddress, agent: false }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

/** A well-behaved client is welcomed and served a room. */
async function served(url: string): Promise<void> {
  const client = await connectRaw(url, { localAddress: ELSEWHERE });
  await client.next((m) => m.type === "welcome");
  client.ws.close();
  await client.closed;
}

describe("before the handshake", () => {
  it("destroys a slowloris and an idle socket at the handshake deadline, serving others meanwhile", async () => {
    const t = await abuseGateway({ limits: { handshakeTimeoutMs: 2_000 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const port = t.gateway.port;
    const slow = rawSocket(port, { write: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web" });
    const idle = rawSocket(port);
    await Promise.all([slow.connected, idle.connected]);
    await eventually(async () => (await metric(t.gateway, "room_watcher_gateway_pending_sockets")) === 2);
    await served(t.gateway.url);
    expect(await healthz(port)).toBe(200);
    await t.time.tick(1_999);
    expect(slow.isClosed() || idle.isClosed()).toBe(false);
    await t.time.tick(1);
    await Promise.all([slow.closed, idle.closed]);
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="handshake_timeout"}')).toBe(2);
    expect(await metric(t.gateway, "room_watcher_gateway_pending_sockets")).toBe(0);
  });

  it("limits sockets not yet upgraded per address, and in all: the next one is destroyed at once and counted", async () => {
    const t = await abuseGateway({ limits: { maxPendingSocketsPerAddress: 3, maxPendingSockets: 5 } });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const port = t.gateway.port;
    const held = Array.from({ length: 3 }, () => rawSocket(port));
    await eventually(async () => (await metric(t.gateway, "room_watcher_gateway_pending_sockets")) === 3);
    const over = rawSocket(port);
    await over.closed;
    expect(held.some((s) => s.isClosed())).toBe(false);
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="address_limit"}')).toBe(1);
    // Another address is served while this one is at its limit.
    await served(t.gateway.url);
    // Two more from elsewhere fill the gateway's own limit (5): then nobody gets a sixth.
    const elsewhere = Array.from({ length: 2 }, () => rawSocket(port, { localAddress: ELSEWHERE }));
    await eventually(async () => (await metric(t.gateway, "room_watcher_gateway_pending_sockets")) === 5);
    const sixth = rawSocket(port, { localAddress: "127.0.0.3" });
    await sixth.closed;
    expect(await metric(t.gateway, 'room_watcher_gateway_refusals_total{reason="pending_limit"}')).toBe(1);
    for (const s of [...held, ...elsewhere]) s.socket.destroy();
    await Promise.all([...held, ...elsewhere].map((s) => s.closed));
  });

  it("destroys a refused upgrade whose peer ignores its answer after the grace (HTTP refusal and 4401 alike)", async () => {
    const t = await abuseGateway({ clientToken: "the-client-token", allowedOrigins: ["https://play.example.com"] });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const port = t.gateway.port;
    // Refused at the handshake (an origin not allowed: 403), then never reads or closes.
    const page = rawSocket(port, { write: `${handshakeHead({ Origin: "https://evil.example" })}\r\n` });
    // Upgraded, then closed with 4401: a peer that never answers the close frame.
    const noToken = rawSocket(port, { write: `${handshakeHead()}\r\n` });
    await page.until(() => page.received().includes("403 Forbidden"));
    await noToken.until(() => noToken.received().includes("101 Switching Protocols") && noToken.received().includes("unauthorized"));
    await t.time.tick(REFUSED_SOCKET_GRACE_MS - 1);
    expect(page.isClosed() || noToken.isClosed()).toBe(false);
    await t.time.tick(1);
    await Promise.all([page.closed, noToken.closed]);
    expect(await metric(t.gateway, `room_watcher_gateway_closes_total{code="${GatewayCloseCode.UNAUTHORIZED}"}`)).toBe(1);
  });

  it("fits its default socket limits under the descriptor limit, and warns when limits given do not fit", async () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
    const t = await abuseGateway({ descriptorLimit: 1_000, limits: { maxConnections: 20_000 }, logger: createJsonLogger({ destination }) });
    cleanups.push(async () => expect(await t.close()).toBe(0));
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40);
    expect(warning?.msg).toBe(
      "maxConnections (20000) + maxPendingSockets (74) + 256 for everything else is 20330, over the process's descriptor limit (1000): the process would run out of descriptors before these limits act; raise the limit (ulimit -n) or lower them",
    );
  });
});
