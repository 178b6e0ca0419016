/** Who may connect to the gateway: the handshake stage (HTTP statuses) and the connection stage (close codes). */
import { describe, expect, it } from "vitest";
import { type AdmissionPolicy, admitConnection, admitHandshake, type ConnectionVerdict, type HandshakeVerdict, handshakeRefusal } from "../../src/gateway/admission.js";
import { OriginPolicy } from "../../src/gateway/origin.js";
import { TokenCheck } from "../../src/gateway/token.js";

const open: AdmissionPolicy = { origins: undefined, clientToken: undefined, maxConnections: 2 };
const guarded: AdmissionPolicy = { origins: new OriginPolicy(["https://play.example.com"]), clientToken: new TokenCheck("c1ient s3cret"), maxConnections: 2 };
const V1 = "room-watcher.v1";

describe("admitHandshake", () => {
  it.each<[string, AdmissionPolicy, string | undefined, string | undefined, boolean, HandshakeVerdict]>([
    ["open, the subprotocol offered", open, undefined, V1, false, { ok: true }],
    ["among others, spaces around", open, undefined, `chat,  ${V1} , x`, false, { ok: true }],
    ["no subprotocol", open, undefined, undefined, false, { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${V1}` }],
    ["another subprotocol", open, undefined, "room-watcher.v2", false, { ok: false, cause: "subprotocol", status: 400, message: `offer the WebSocket subprotocol ${V1}` }],
    ["an allowed page", guarded, "https://play.example.com", V1, false, { ok: true }],
    ["no Origin (not a browser)", guarded, undefined, V1, false, { ok: true }],
    ["another page, checked before the subprotocol", guarded, "https://evil.example", undefined, false, { ok: false, cause: "origin", status: 403, message: "origin not allowed" }],
    ["any page when no origin is listed", open, "https://evil.example", V1, false, { ok: true }],
    ["draining, before anything else", guarded, "https://evil.example", undefined, true, { ok: false, cause: "draining", status: 503, message: "gateway shutting down" }],
  ])("%s", (_name, policy, origin, protocols, draining, verdict) => {
    expect(admitHandshake(policy, { origin, protocols }, draining)).toEqual(verdict);
  });

  it("a refusal is one raw HTTP response that closes the connection", () => {
    expect(handshakeRefusal({ ok: false, cause: "origin", status: 403, message: "origin not allowed" })).toBe(
      'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 32\r\nconnection: close\r\n\r\n{"message":"origin not allowed"}',
    );
    expect(handshakeRefusal({ ok: false, cause: "draining", status: 503, message: "gateway shutting down" })).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(handshakeRefusal({ ok: false, cause: "subprotocol", status: 400, message: "x" })).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe("admitConnection", () => {
  it.each<[string, AdmissionPolicy, string | undefined, boolean, number, ConnectionVerdict]>([
    ["open, under the limit", open, undefined, false, 1, { ok: true }],
    ["open, at the limit: 1013", open, undefined, false, 2, { ok: false, cause: "connection_limit", code: 1013, reason: "too many connections" }],
    ["the token, under the limit", guarded, "Bearer c1ient s3cret", false, 0, { ok: true }],
    ["the token, scheme in any case", guarded, "bEARER c1ient s3cret", false, 0, { ok: true }],
    ["no token: 4401", guarded, undefined, false, 0, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["part of the token: 4401", guarded, "Bearer c1ient", false, 0, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["a wrong token at the limit: 4401 first", guarded, "Bearer nope", false, 5, { ok: false, cause: "unauthorized", code: 4401, reason: "unauthorized" }],
    ["draining, before the token: 1001", guarded, undefined, true, 0, { ok: false, cause: "draining", code: 1001, reason: "gateway shutting down" }],
  ])("%s", (_name, policy, authorization, draining, connections, verdict) => {
    expect(admitConnection(policy, authorization, { draining, connections })).toEqual(verdict);
  });
});
