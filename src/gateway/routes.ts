/**
 * The gateway's HTTP routes (`GET /healthz`, `GET /metrics`, `POST /hints/{roomId}`, the dashboard's
 * `GET /dashboard...`, anything else 404)
 * as answers: each function here returns what to send, and `writeAnswer` is the one place that
 * writes a response. The server gathers the facts (health, metrics text, the hub's verdict on a hint).
 */
import type { ServerResponse } from "node:http";
import { ROOM_ID_PATTERN, ROOM_ID_RULE } from "../core/validate.js";
import { HINT_PATH_PREFIX } from "../protocol/hints.js";
import type { GatewayHealth, GatewayStats } from "./health.js";
import type { HintOutcome } from "./metrics.js";
import type { TokenCheck } from "./token.js";

/** A response, before it is written. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Route =
  | { readonly name: "healthz" }
  | { readonly name: "metrics" }
  /** `roomIdSegment`: the path after the prefix, still percent-encoded. */
  | { readonly name: "hint"; readonly roomIdSegment: string }
  /** The dashboard's page and its static files: no data in them, so no token (a browser cannot send one to open a page). */
  | { readonly name: "dashboard"; readonly asset: "page" | "script" | "style" }
  /** The dashboard's figures (JSON), behind the metrics token. */
  | { readonly name: "dashboard_snapshot" }
  /** Any other path under /dashboard/, or another method: a 404 the dashboard counts. */
  | { readonly name: "dashboard_unknown" }
  | { readonly name: "not_found" };

/** Where the dashboard's page is served; its files and data are under it. */
export const DASHBOARD_PATH = "/dashboard";
export const DASHBOARD_SNAPSHOT_PATH = "/dashboard/api/snapshot";
const DASHBOARD_ASSETS: Readonly<Record<string, "page" | "script" | "style">> = {
  [DASHBOARD_PATH]: "page",
  "/dashboard/app.js": "script",
  "/dashboard/app.css": "style",
};

/** Which route a request's method and URL (path and query) take; the query is ignored (the dashboard's snapshot reads its own). */
export function routeOf(method: string | undefined, url: string | undefined): Route {
  const path = (url ?? "/").split("?")[0] ?? "/";
  if (method === "GET" && path === "/healthz") return { name: "healthz" };
  if (method === "GET" && path === "/metrics") return { name: "metrics" };
  if (method === "POST" && path.startsWith(HINT_PATH_PREFIX)) return { name: "hint", roomIdSegment: path.slice(HINT_PATH_PREFIX.length) };
  if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
    const asset = method === "GET" ? DASHBOARD_ASSETS[path] : undefined;
    if (asset !== undefined) return { name: "dashboard", asset };
    if (method === "GET" && path === DASHBOARD_SNAPSHOT_PATH) return { name: "dashboard_snapshot" };
    return { name: "dashboard_unknown" };
  }
  return { name: "not_found" };
}

export function jsonAnswer(status: number, body: unknown): HttpAnswer {
  const text = JSON.stringify(body);
  return { status, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }, body: text };
}

export const NOT_FOUND: HttpAnswer = jsonAnswer(404, { message: "not found" });

/** Shared mode's lines in /healthz. */
export interface ClusterFacts {
  readonly instanceId: string;
  readonly redis: "up" | "down";
}

/**
 * /healthz: the health, the counts and (shared mode) the cluster's lines. Degraded stays 200: every
 * gateway on the same upstream is degraded alike, and a balancer that pulled them all would turn a slow
 * upstream into no service. Draining is 503: route elsewhere.
 */
export function healthzAnswer(health: GatewayHealth, stats: GatewayStats, cluster: ClusterFacts | undefined): HttpAnswer {
  return jsonAnswer(health.status === "draining" ? 503 : 200, { ...health, ...stats, ...cluster });
}

/** /metrics: the exposition text, or a 500 when the registry could not produce it. */
export function metricsAnswer(exposed: { readonly contentType: string; readonly body: string } | undefined): HttpAnswer {
  if (exposed === undefined) return jsonAnswer(500, { message: "metrics unavailable" });
  return { status: 200, headers: { "content-type": exposed.contentType, "content-length": String(Buffer.byteLength(exposed.body)) }, body: exposed.body };
}

/** A hint request read: a room to hint, or refused (with the outcome counted and the answer to send). */
export type HintRequest =
  | { readonly ok: true; readonly roomId: string }
  | { readonly ok: false; readonly outcome: Extract<HintOutcome, "disabled" | "unauthorized" | "invalid">; readonly answer: HttpAnswer };

/**
 * A hint is never truth: an accepted one makes the hub look upstream at once, so a forged or mistaken
 * hint costs one request. Refused in this order: hints off (no hint token), a wrong token, a malformed room id.
 */
export function readHint(check: TokenCheck | undefined, authorization: string | undefined, roomIdSegment: string): HintRequest {
  if (check === undefined) return { ok: false, outcome: "disabled", answer: jsonAnswer(404, { message: "hints are disabled on this gateway" }) };
  if (!check.matchesHeader(authorization)) return { ok: false, outcome: "unauthorized", answer: jsonAnswer(401, { message: "Unauthorized" }) };
  let roomId: string;
  try {
    roomId = decodeURIComponent(roomIdSegment);
  } catch {
    roomId = "";
  }
  if (!ROOM_ID_PATTERN.test(roomId)) return { ok: false, outcome: "invalid", answer: jsonAnswer(400, { message: `room id must be ${ROOM_ID_RULE}` }) };
  return { ok: true, roomId };
}

/** The answer to a well-formed hint, once the hub has taken it (`accepted`, or `coalesced` into a look already due) or does not watch the room. */
export function hintAnswer(roomId: string, outcome: Extract<HintOutcome, "accepted" | "coalesced" | "unknown_room">): HttpAnswer {
  return outcome === "unknown_room" ? jsonAnswer(404, { message: `room ${roomId} is not watched by this gateway` }) : jsonAnswer(202, { outcome });
}

/** The one writer of an HTTP answer. */
export function writeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}
