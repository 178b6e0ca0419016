/**
 * The demo on the fake Edgegap (EdgegapSimulator): every room is a deployment, polled through
 * `GET /v1/status/{request_id}` within Edgegap's request budget. With `gateway`, the watchers are fed by an
 * in-process gateway over WebSocket, and every deployment is created with its `webhook_on_*` URLs
 * pointed at that gateway: the fake Edgegap calls them once each, and each is a hint (one verifying look).
 *
 * Kinds: `ready` (INITIALIZING ... DEPLOYING -> READY: active at its fqdn and port), `error` (-> ERROR:
 * ended with Edgegap's error_detail), `stopped-mid-start` (stopped as soon as it is created: Edgegap
 * holds the stop until READY, then TERMINATING -> TERMINATED; its watcher ends on TERMINATING, `shutdown`).
 */
import { randomBytes } from "node:crypto";
import { ConfigError } from "../core/errors.js";
import { Gateway } from "../gateway/server.js";
import { EdgegapHttpSource } from "../providers/edgegap/http-source.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND } from "../providers/edgegap/rate-limits.js";
import { edgegapWebhookReceiver, edgegapWebhooks } from "../providers/edgegap/webhooks.js";
import { EdgegapSimulator } from "../simulator/edgegap/simulator.js";
import type { EdgegapDeploymentTruth, EdgegapScenario } from "../simulator/edgegap/world.js";
import { WebSocketSource } from "../sources/websocket-source.js";
import { Fleet } from "../watch/fleet.js";
import type { DemoBackend, DemoTruth } from "./backend.js";

export const EdgegapDemoKind = {
  READY: "ready",
  ERROR: "error",
  STOPPED_MID_START: "stopped-mid-start",
} as const;
export type EdgegapDemoKind = (typeof EdgegapDemoKind)[keyof typeof EdgegapDemoKind];

export interface EdgegapDemoOptions {
  readonly seed: number;
  readonly timeScale: number;
  readonly counts: Partial<Record<string, number>>;
  readonly gateway: boolean;
}

const DEFAULT_COUNTS: Record<EdgegapDemoKind, number> = { ready: 6, error: 2, "stopped-mid-start": 2 };
const SCENARIOS: Record<EdgegapDemoKind, EdgegapScenario> = { ready: "ready", error: "error", "stopped-mid-start": "ready" };
const PORT_NAME = "gameport";
/**
 * Real ms a stopped deployment stays TERMINATING. Longer than the longest poll delay (2 s, +20% jitter) so
 * its watcher surely sees TERMINATING, whatever the time scale: the ending it must report is `shutdown`.
 */
const TERMINATING_REAL_MS = 4_000;
/** The first of these a deployment reaches is how its watch must end. */
const ENDINGS: Readonly<Record<string, string>> = { ERROR: "error", TERMINATING: "shutdown", TERMINATED: "destroyed" };

function isKind(kind: string): kind is EdgegapDemoKind {
  return Object.hasOwn(DEFAULT_COUNTS, kind);
}

export async function startEdgegapDemo(options: EdgegapDemoOptions): Promise<DemoBackend> {
  const counts: Record<EdgegapDemoKind, number> = { ...DEFAULT_COUNTS };
  for (const [kind, count] of Object.entries(options.counts)) {
    if (!isKind(kind)) throw new ConfigError(`the Edgegap demo has no room kind ${JSON.stringify(kind)}: expected one of ${Object.keys(DEFAULT_COUNTS).join(", ")}`);
    if (count === undefined || !Number.isInteger(count) || count < 0) throw new ConfigError(`demo count of ${kind} must be a non-negative integer`);
    counts[kind] = count;
  }
  // The organisation's token lives in this process only: the fake checks it as Edgegap would.
  const token = randomBytes(16).toString("hex");
  const terminatingMs = TERMINATING_REAL_MS * options.timeScale;
  const simulator = await EdgegapSimulator.start({ seed: options.seed, timeScale: options.timeScale, token, terminatingMs: [terminatingMs, terminatingMs] });
  const upstream = new EdgegapHttpSource({ baseUrl: simulator.url, token, portName: PORT_NAME });
  let gateway: Gateway | undefined;
  let gatewayFleet: Fleet | undefined;
  let source: WebSocketSource | undefined;
  let webhooks: Partial<Record<"ready" | "error" | "terminated", string>> | undefined;
  const metricsToken = randomBytes(16).toString("hex");
  try {
    if (options.gateway) {
      const secret = randomBytes(16).toString("hex");
      // The gateway polls within Edgegap's budget, as `room-watcher gateway --provider edgegap` does.
      gatewayFleet = new Fleet({ maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND });
      gateway = await Gateway.start({ source: upstream, webhooks: [edgegapWebhookReceiver(secret)], fleet: gatewayFleet, metricsToken, dashboard: true });
      const hooks = edgegapWebhooks(gateway.httpUrl, secret);
      webhooks = { ready: hooks.webhook_on_ready.url, error: hooks.webhook_on_error.url, terminated: hooks.webhook_on_terminated.url };
      source = new WebSocketSource({ url: gateway.url });
    }
  } catch (error) {
    await gatewayFleet?.close();
    await simulator.close();
    throw error;
  }
  let upstreamRequests: number | undefined;
  const initialKinds = (Object.keys(DEFAULT_COUNTS) as EdgegapDemoKind[]).flatMap((kind) => Array.from({ length: counts[kind] }, () => kind));
  return {
    description: `Edgegap simulator seed ${options.seed}, time scale ${options.timeScale}x, status polled within ${EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND} requests/s${options.gateway ? ", watching through a gateway (webhooks as hints)" : ""}`,
    initialKinds,
    dashboardUrl: gateway === undefined ? undefined : `${gateway.dashboardUrl}#token=${metricsToken}`,
    laterRooms: () => 0,
    maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND,
    create(kind) {
      if (!isKind(kind)) throw new ConfigError(`unknown demo room kind ${kind}`);
      const requestId = simulator.createDeployment({ scenario: SCENARIOS[kind], webhooks });
      // Stopped while INITIALIZING, before its watcher's first look (which waits its turn in the budget):
      // mid-start by construction, however slow the machine, and Edgegap holds the stop until READY.
      if (kind === EdgegapDemoKind.STOPPED_MID_START) simulator.stopDeployment(requestId);
      return requestId;
    },
    watchOptions: () => ({ source: source ?? upstream }),
    settled(room, status) {
      return room.kind === EdgegapDemoKind.READY ? status === "active" : status === "terminated";
    },
    truth(roomId) {
      return edgegapTruthOf(simulator.truth(roomId), (at) => simulator.realTimeOf(at));
    },
    requests: (roomId) => simulator.statusRequestCount(roomId),
    gatewayFigures() {
      const requests = upstreamRequests ?? gateway?.stats.upstreamRequests;
      if (requests === undefined) return undefined;
      const { sent, delivered, failed } = simulator.webhookCounts();
      return { hints: { sent, accepted: delivered, failed }, upstreamRequests: requests };
    },
    async close() {
      upstreamRequests = gateway?.stats.upstreamRequests;
      // The fake Edgegap waits for the webhooks it has sent to be answered, so the gateway closes after it.
      await simulator.close();
      await gateway?.close();
      await gatewayFleet?.close();
    },
  };
}

/** What a watcher of this deployment must report, from the fake Edgegap's history of it. */
export function edgegapTruthOf(truth: EdgegapDeploymentTruth | undefined, realTimeOf: (simulatedMs: number) => number): DemoTruth {
  const history = truth?.history ?? [];
  const ending = history.find((entry) => ENDINGS[entry.status] !== undefined);
  const readyEntry = history.find((entry) => entry.status === "READY");
  // A READY that is TERMINATING at the same instant (a stop held until READY) was never seen as READY.
  const active = readyEntry !== undefined && (ending === undefined || ending.at > readyEntry.at);
  const port = truth?.externalPorts[PORT_NAME];
  return {
    status: ending !== undefined ? (ENDINGS[ending.status] ?? "unknown") : active ? "active" : history.length > 0 ? "starting" : "unknown",
    connection:
      !active || truth === undefined || port === undefined
        ? undefined
        : { exposedPort: { host: truth.fqdn, port, transportType: "udp", name: PORT_NAME }, additionalExposedPorts: [] },
    moved: false,
    activeAt: active && readyEntry !== undefined ? realTimeOf(readyEntry.at) : undefined,
    detail: ending?.status === "ERROR" ? truth?.errorDetail : undefined,
  };
}
