/** The gateway's HTTP routes as answers: which route a request takes, and what each answers. */
import { describe, expect, it } from "vitest";
import { healthzAnswer, hintAnswer, jsonAnswer, metricsAnswer, NOT_FOUND, readHint, type Route, routeOf } from "../../src/gateway/routes.js";
import { TokenCheck } from "../../src/gateway/token.js";
import type { GatewayHealth, GatewayStats } from "../../src/gateway/health.js";

describe("routeOf", () => {
  it.each<[string | undefined, string | undefined, Route]>([
    ["GET", "/healthz", { name: "healthz" }],
    ["GET", "/healthz?verbose=1", { name: "healthz" }],
    ["GET", "/metrics", { name: "metrics" }],
    ["POST", "/hints/room-1", { name: "hint", roomIdSegment: "room-1" }],
    ["POST", "/hints/room%2D1?x=y", { name: "hint", roomIdSegment: "room%2D1" }],
    ["POST", "/hints/", { name: "hint", roomIdSegment: "" }],
    ["POST", "/healthz", { name: "not_found" }],
    ["HEAD", "/healthz", { name: "not_found" }],
    ["GET", "/hints/room-1", { name: "not_found" }],
    ["GET", "/healthz/", { name: "not_found" }],
    ["GET", "/", { name: "not_found" }],
    ["GET", "/dashboard", { name: "dashboard", asset: "page" }],
    ["GET", "/dashboard?x=1", { name: "dashboard", asset: "page" }],
    ["GET", "/dashboard/app.js", { name: "dashboard", asset: "script" }],
    ["GET", "/dashboard/app.css", { name: "dashboard", asset: "style" }],
    ["GET", "/dashboard/api/snapshot?since=3", { name: "dashboard_snapshot" }],
    ["POST", "/dashboard/api/snapshot", { name: "dashboard_unknown" }],
    ["POST", "/dashboard", { name: "dashboard_unknown" }],
    ["GET", "/dashboard/", { name: "dashboard_unknown" }],
    ["GET", "/dashboard/assets/dashboard.html", { name: "dashboard_unknown" }],
    ["GET", "/dashboards", { name: "not_found" }],
    [undefined, undefined, { name: "not_found" }],
  ])("%s %s -> %j", (method, url, route) => {
    expect(routeOf(method, url)).toEqual(route);
  });
});

const stats: GatewayStats = { connections: 2, subscriptions: 3, rooms: 1, ownedRooms: 1, upstreamRequests: 9 };

describe("healthzAnswer", () => {
  it.each<[string, GatewayHealth, { instanceId: string; redis: "up" | "down" } | undefined, number, Record<string, unknown>]>([
    ["ok alone", { status: "ok", reasons: [] }, undefined, 200, { status: "ok", reasons: [], ...stats }],
    ["degraded stays 200", { status: "degraded", reasons: ["redis: disconnected"] }, { instanceId: "a", redis: "down" }, 200, { status: "degraded", reasons: ["redis: disconnected"], ...stats, instanceId: "a", redis: "down" }],
    ["draining is 503", { status: "draining", reasons: ["draining: x"] }, undefined, 503, { status: "draining", reasons: ["draining: x"], ...stats }],
  ])("%s", (_name, health, cluster, status, body) => {
    const answer = healthzAnswer(health, stats, cluster);
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(answer.body)).toEqual(body);
    expect(answer.headers["content-length"]).toBe(String(Buffer.byteLength(answer.body)));
  });
});

describe("metricsAnswer", () => {
  it("the exposition text with its content type, or a 500 when there is none", () => {
    expect(metricsAnswer({ contentType: "text/plain; version=0.0.4", body: "a 1\n" })).toEqual({
      status: 200,
      headers: { "content-type": "text/plain; version=0.0.4", "content-length": "4" },
      body: "a 1\n",
    });
    expect(metricsAnswer(undefined)).toEqual(jsonAnswer(500, { message: "metrics unavailable" }));
  });
});

describe("readHint and hintAnswer", () => {
  const check = new TokenCheck("hint s3cret");
  it.each<[string, TokenCheck | undefined, string | undefined, string, { ok: true; roomId: string } | { outcome: string; status: number; message: string }]>([
    ["hints off: 404 before anything else", undefined, "Bearer hint s3cret", "room-1", { outcome: "disabled", status: 404, message: "hints are disabled on this gateway" }],
    ["no token", check, undefined, "room-1", { outcome: "unauthorized", status: 401, message: "Unauthorized" }],
    ["a wrong token, even for a malformed room", check, "Bearer hint", "%%%", { outcome: "unauthorized", status: 401, message: "Unauthorized" }],
    ["another scheme", check, "Basic hint s3cret", "room-1", { outcome: "unauthorized", status: 401, message: "Unauthorized" }],
    ["bad percent-encoding", check, "Bearer hint s3cret", "%E0%A4%A", { outcome: "invalid", status: 400, message: "room id must be 1..253 characters of [a-zA-Z0-9_.-], not starting with a dot" }],
    ["an empty room id", check, "bearer hint s3cret", "", { outcome: "invalid", status: 400, message: "room id must be 1..253 characters of [a-zA-Z0-9_.-], not starting with a dot" }],
    ["a room id with a slash", check, "Bearer hint s3cret", "a%2Fb", { outcome: "invalid", status: 400, message: "room id must be 1..253 characters of [a-zA-Z0-9_.-], not starting with a dot" }],
    ["a well-formed hint, percent-decoded", check, "Bearer hint s3cret", "room%2D1", { ok: true, roomId: "room-1" }],
  ])("%s", (_name, token, authorization, segment, expected) => {
    const read = readHint(token, authorization, segment);
    if ("ok" in expected) {
      expect(read).toEqual(expected);
      return;
    }
    expect(read).toEqual({ ok: false, outcome: expected.outcome, answer: jsonAnswer(expected.status, { message: expected.message }) });
  });

  it.each([
    ["accepted", 202, { outcome: "accepted" }],
    ["unknown_room", 404, { message: "room room-1 is not watched by this gateway" }],
  ] as const)("a well-formed hint the hub answers %s -> %i", (outcome, status, body) => {
    expect(hintAnswer("room-1", outcome)).toEqual(jsonAnswer(status, body));
  });

  it("anything else is the one 404", () => {
    expect(NOT_FOUND).toEqual(jsonAnswer(404, { message: "not found" }));
  });
});
