/**
 * The gateway's guards under attempts to get around them: the origin check (table-driven, then on
 * loopback), the client token presented every wrong way, and the connection limit against clients it
 * refused. A real gateway and the real simulator on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { OriginPolicy } from "../../src/gateway/origin.js";
import { GATEWAY_SUBPROTOCOL } from "../../src/protocol/messages.js";
import { GatewayCloseCode } from "../../src/protocol/close-codes.js";
import { Gateway } from "../../src/gateway/server.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { connectRaw } from "../helpers/ws-client.js";

const APP = "app-hardening";
const ALLOWED = ["https://play.example.com", "http://localhost:5173"];

describe("OriginPolicy", () => {
  const policy = new OriginPolicy(ALLOWED);

  it.each([
    ["no Origin header (not a browser)", undefined],
    ["an allowed origin", "https://play.example.com"],
    ["an allowed origin with its port", "http://localhost:5173"],
    ["the same origin in capitals", "https://PLAY.Example.COM"],
    ["the same origin with its default port spelled out", "https://play.example.com:443"],
  ])("lets through %s", (_name, header) => {
    expect(policy.allows(header)).toBe(true);
  });

  it.each([
    ["another site", "https://evil.example"],
    ["an allowed host as a prefix of another", "https://play.example.com.evil.example"],
    ["an allowed host as a suffix of another", "https://notplay.example.com"],
    ["a parent domain", "https://example.com"],
    ["a subdomain", "https://a.play.example.com"],
    ["a trailing-dot host", "https://play.example.com."],
    ["the wrong scheme", "http://play.example.com"],
    ["another port", "https://play.example.com:8443"],
    ["an allowed port on another scheme", "https://localhost:5173"],
    ["an opaque origin (sandboxed frame, file: page)", "null"],
    ["an empty header", ""],
    ["a path", "https://play.example.com/game"],
    ["a trailing slash", "https://play.example.com/"],
    ["a query", "https://play.example.com?x=1"],
    ["credentials", "https://user:pass@play.example.com"],
    ["an @ trick", "https://play.example.com@evil.example"],
    ["a look-alike (Cyrillic а)", "https://plаy.example.com"],
    ["a ws: origin", "ws://play.example.com"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a list of origins", "https://play.example.com https://evil.example"],
    ["garbage", "%%%"],
  ])("refuses %s", (_name, header) => {
    expect(policy.allows(header)).toBe(false);
  });

  it.each(["play.example.com", "https://play.example.com/game", "https://play.example.com/", "ws://play.example.com", "*", "null", ""])(
    "refuses to be configured with %j",
    (entry) => {
      expect(() => new OriginPolicy([entry])).toThrow(ConfigError);
    },
  );
});

describe("gateway guards on loopback", () => {
  let simulator: Simulator;
  let gateway: Gateway;
  const token = "hardening-token-9f3a";

  beforeAll(async () => {
    simulator = await Simulator.start({ seed: 3, timeScale: 50, appId: APP });
    gateway = await Gateway.start({ baseUrl: simulator.url, appId: APP, clientToken: token, allowedOrigins: ALLOWED, limits: { maxConnections: 3, maxFailedAuthsPerMinute: 1_000 } });
    // (The lockout after failed authentications has its own suite, test/gateway/abuse/; these refuse many on purpose.)
  });

  afterAll(async () => {
    await gateway.close();
    await simulator.close();
  });

  it("refuses a handshake from a page of an origin not allowed with 403, even with the right token, and counts it", async () => {
    for (const origin of ["https://evil.example", "https://play.example.com.evil.example", "null", "http://play.example.com"]) {
      await expect(connectRaw(gateway.url, { token, origin })).rejects.toThrow("HTTP 403");
    }
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toContain('room_watcher_gateway_protocol_errors_total{code="origin"} 4');
    expect(gateway.stats.connections).toBe(0);

    // An allowed page, and a program that sends no Origin, are welcome.
    for (const origin of ["https://play.example.com", undefined]) {
      const client = await connectRaw(gateway.url, { token, origin });
      await client.next((m) => m.type === "welcome");
      client.ws.close();
      await client.closed;
    }
  });

  it("closes with 4401 a token presented any way but `Authorization: Bearer <token>`", async () => {
    const attempts: Array<{ name: string; url?: string; headers?: Record<string, string>; protocols?: string[] }> = [
      { name: "in the query string", url: `${gateway.url}/?token=${token}` },
      { name: "in the path", url: `${gateway.url}/${token}` },
      { name: "as a subprotocol", protocols: [GATEWAY_SUBPROTOCOL, token] },
      { name: "as Basic", headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString("base64")}` } },
      { name: "bare, without a scheme", headers: { authorization: token } },
      { name: "with trailing words", headers: { authorization: `Bearer ${token} extra` } },
      { name: "a prefix of it", headers: { authorization: `Bearer ${token.slice(0, -1)}` } },
      { name: "in another case", headers: { authorization: `Bearer ${token.toUpperCase()}` } },
      { name: "in a cookie", headers: { cookie: `token=${token}` } },
      { name: "in a custom header", headers: { "x-room-watcher-token": token } },
    ];
    for (const attempt of attempts) {
      const client = await connectRaw(attempt.url ?? gateway.url, { headers: attempt.headers, protocols: attempt.protocols });
      expect(await client.closed, attempt.name).toEqual({ code: GatewayCloseCode.UNAUTHORIZED, reason: "unauthorized" });
      expect(client.messages, attempt.name).toEqual([]);
    }
    // The scheme is case-insensitive (RFC 9110); the token is not.
    const client = await connectRaw(gateway.url, { headers: { authorization: `bearer ${token}` } });
    await client.next((m) => m.type === "welcome");
    client.ws.close();
    await client.closed;
  });

  it("keeps no connection slot for clients it refused: the limit counts welcomed clients only", async () => {
    const refused = await Promise.all(Array.from({ length: 10 }, () => connectRaw(gateway.url, { token: "wrong" })));
    await Promise.all(refused.map((c) => c.closed));
    await Promise.all(Array.from({ length: 5 }, () => expect(connectRaw(gateway.url, { token, origin: "https://evil.example" })).rejects.toThrow("HTTP 403")));
    const welcomed = await Promise.all(Array.from({ length: 3 }, () => connectRaw(gateway.url, { token })));
    await Promise.all(welcomed.map((c) => c.next((m) => m.type === "welcome")));
    const extra = await connectRaw(gateway.url, { token });
    expect((await extra.closed).code).toBe(GatewayCloseCode.TRY_AGAIN_LATER);
    for (const c of welcomed) c.ws.close();
    await Promise.all(welcomed.map((c) => c.closed));
    expect(gateway.stats.connections).toBe(0);
  });
});
