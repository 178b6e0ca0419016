/** What the dashboard's JSON route answers: every figure the page draws, gathered at one moment. */
import type { GatewayHealth } from "../health.js";
import type { RoomStatusCounts } from "../room-hub.js";
import type { Dashboard } from "./dashboard.js";
import type { DashboardEvent } from "./event-log.js";
import { countsBy, type LatencyHistogram, latencyHistogram, type MetricValue } from "./latency-buckets.js";
import type { RateSample } from "./rate-series.js";

export interface DashboardSnapshot {
  /** Clock ms. */
  readonly at: number;
  readonly health: GatewayHealth;
  readonly rooms: {
    /** Watched now and not seen to exist yet. */
    readonly waiting: number;
    readonly starting: number;
    readonly active: number;
    /** Since the gateway started: rooms reaching each status (an ended room is dropped, so it is only here). */
    readonly totals: { readonly starting: number; readonly active: number; readonly ended: number };
  };
  readonly connections: number;
  readonly subscribers: number;
  readonly upstream: {
    /** False for a push upstream (Agones' watch), which sends no request per room. */
    readonly polling: boolean;
    /** Requests sent since the gateway started. */
    readonly requests: number;
    /** The request budget (requests started per second at most); null for none. */
    readonly budgetPerSecond: number | null;
    /** Requests answered 429 since the gateway started. */
    readonly rateLimited: number;
    /** While paused after a 429, until when (clock ms); else null. */
    readonly pausedUntil: number | null;
    /** The rate over the last intervals, oldest first. */
    readonly series: readonly RateSample[];
  };
  readonly detectionLatency: LatencyHistogram;
  /** Events with a seq above the `since` asked for, oldest first. */
  readonly events: readonly DashboardEvent[];
  /** The latest event's seq (0 before any): the next poll's `since`. */
  readonly lastSeq: number;
}

/** What a snapshot is made of, read by the gateway at one moment. */
export interface SnapshotReadings {
  readonly at: number;
  readonly health: GatewayHealth;
  readonly statusCounts: RoomStatusCounts;
  readonly connections: number;
  readonly subscribers: number;
  readonly polling: boolean;
  readonly requests: number;
  /** The budget's rate; Infinity for none. */
  readonly maxRequestsPerSecond: number;
  /** The budget's pause after a 429 (clock ms; in the past when not paused). */
  readonly pausedUntil: number;
  /** room_watcher_gateway_room_transitions_total's values. */
  readonly transitions: readonly MetricValue[];
  /** room_watcher_gateway_upstream_requests_total's values. */
  readonly upstreamOutcomes: readonly MetricValue[];
  /** room_watcher_gateway_detection_latency_seconds's values. */
  readonly detectionLatency: readonly MetricValue[];
  readonly dashboard: Dashboard;
  /** The events the page has already: it gets the ones after. */
  readonly since: number;
}

export function buildSnapshot(r: SnapshotReadings): DashboardSnapshot {
  const totals = countsBy("state", r.transitions);
  return {
    at: r.at,
    health: r.health,
    rooms: {
      waiting: r.statusCounts.unknown,
      starting: r.statusCounts.starting,
      active: r.statusCounts.active,
      totals: { starting: totals.starting ?? 0, active: totals.active ?? 0, ended: totals.ended ?? 0 },
    },
    connections: r.connections,
    subscribers: r.subscribers,
    upstream: {
      polling: r.polling,
      requests: r.requests,
      budgetPerSecond: Number.isFinite(r.maxRequestsPerSecond) ? r.maxRequestsPerSecond : null,
      rateLimited: countsBy("outcome", r.upstreamOutcomes).rate_limited ?? 0,
      pausedUntil: r.pausedUntil > r.at ? r.pausedUntil : null,
      series: r.dashboard.rate.samples,
    },
    detectionLatency: latencyHistogram(DETECTION_LATENCY_METRIC, r.detectionLatency),
    events: r.dashboard.events.since(r.since),
    lastSeq: r.dashboard.events.lastSeq,
  };
}

const DETECTION_LATENCY_METRIC = "room_watcher_gateway_detection_latency_seconds";
