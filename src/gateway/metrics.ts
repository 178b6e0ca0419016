/**
 * The gateway's Prometheus metrics (prom-client), on a registry of its own so that several gateways
 * in one process (tests, benchmarks) do not collide. Labels are fixed small sets: never a room id,
 * never a token.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { TicketRefusal } from "./admission.js";

/** Outcomes of one upstream request. */
export type UpstreamOutcome = "ok" | "not_found" | "http_error" | "rate_limited" | "network" | "timeout" | "invalid_payload" | "aborted" | "other";
/** Outcomes of one readiness hint. */
export type HintOutcome = "accepted" | "coalesced" | "throttled" | "unauthorized" | "unknown_room" | "invalid" | "disabled";
/**
 * Why the gateway turned something away before it cost anything: a socket over the limit of sockets not
 * yet upgraded (`pending_limit`), or of one address's (`address_limit`); a socket that did not finish its
 * handshake in time (`handshake_timeout`); an address locked out after failed authentications
 * (`auth_lockout`); a subscribe over the rooms limit (`room_limit`) or over a connection's rooms never
 * seen (`unseen_limit`).
 */
export type RefusalReason = "pending_limit" | "address_limit" | "handshake_timeout" | "auth_lockout" | "room_limit" | "unseen_limit";

/** Outcomes of one room ticket presented at connect: `accepted`, or why it was refused. */
export type TicketOutcome = "accepted" | TicketRefusal;
/** Outcomes of one request to the dashboard's routes (`--dashboard`). */
export type DashboardOutcome = "ok" | "unauthorized" | "invalid" | "not_found" | "locked_out";

/** Room statuses a room reaches, as counted by `room_watcher_gateway_room_transitions_total`. */
export type RoomTransition = "starting" | "active" | "ended";

/** Gauges read at scrape time. */
export interface GatewayGaugeSource {
  connections(): number;
  subscriptions(): number;
  rooms(): number;
  ownedRooms(): number;
  /** Shared mode: whether both connections to Redis are up. */
  redisConnected(): boolean;
  /** Sockets accepted and not yet upgraded to WebSocket (HTTP requests included). */
  pendingSockets(): number;
}

/** Push latency buckets in seconds: sub-millisecond to a second. */
const PUSH_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Detection latency buckets in seconds: a hinted look (milliseconds) to a sparse schedule's gap (seconds). */
export const DETECTION_LATENCY_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly upstreamRequests: Counter<"outcome">;
  readonly pushLatency: Histogram;
  /** Polling upstream only: how late this instance may have been to see a room turn active (see RoomHub). */
  readonly detectionLatency: Histogram;
  /** Rooms here reaching a status: starting, active (again, after a move), ended. */
  readonly roomTransitions: Counter<"state">;
  readonly dashboardRequests: Counter<"outcome">;
  readonly messagesSent: Counter<"type">;
  readonly hints: Counter<"outcome">;
  readonly closes: Counter<"code">;
  readonly protocolErrors: Counter<"code">;
  readonly refusals: Counter<"reason">;
  /** Room tickets presented at connect, by outcome (never the ticket). */
  readonly tickets: Counter<"outcome">;
  /** Subscribes answered from the memory of rooms that ended as not found. */
  readonly notFoundMemory: Counter;
  /** Shared mode only: changes of the link to Redis (lost, alone, back, resynced). */
  readonly redisLink: Counter<"state"> | undefined;
  /** Shared mode only: rooms whose subscribers here were sent a fresh snapshot, by cause. */
  readonly resyncs: Counter<"cause"> | undefined;

  constructor(gauges: GatewayGaugeSource, options: { defaultMetrics?: boolean | undefined; shared?: boolean | undefined } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: "room_watcher_gateway_connections",
      help: "Open WebSocket connections",
      registers,
      collect() {
        this.set(gauges.connections());
      },
    });
    new Gauge({
      name: "room_watcher_gateway_subscribers",
      help: "Room subscriptions across all connections",
      registers,
      collect() {
        this.set(gauges.subscriptions());
      },
    });
    new Gauge({
      name: "room_watcher_gateway_rooms",
      help: "Rooms with subscribers here (alone, each watched upstream once, however many subscribers)",
      registers,
      collect() {
        this.set(gauges.rooms());
      },
    });
    new Gauge({
      name: "room_watcher_gateway_rooms_owned",
      help: "Rooms this instance watches upstream (in shared mode, its share of the cluster's rooms)",
      registers,
      collect() {
        this.set(gauges.ownedRooms());
      },
    });
    new Gauge({
      name: "room_watcher_gateway_pending_sockets",
      help: "Sockets accepted and not yet upgraded to WebSocket (plain HTTP requests included)",
      registers,
      collect() {
        this.set(gauges.pendingSockets());
      },
    });
    this.upstreamRequests = new Counter({
      name: "room_watcher_gateway_upstream_requests_total",
      help: "Upstream connection-info requests by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.pushLatency = new Histogram({
      name: "room_watcher_gateway_push_latency_seconds",
      help: "From the gateway learning a change to the message being written to a subscriber's socket",
      buckets: PUSH_LATENCY_BUCKETS,
      registers,
    });
    this.detectionLatency = new Histogram({
      name: "room_watcher_gateway_detection_latency_seconds",
      help: "Polling upstream: from the previous answer about a room (or a readiness hint after it, or the start of its watch) to the answer that said it is active; the room turned active somewhere in that window",
      buckets: [...DETECTION_LATENCY_BUCKETS],
      registers,
    });
    this.roomTransitions = new Counter({
      name: "room_watcher_gateway_room_transitions_total",
      help: "Rooms with subscribers here reaching a status: starting, active (a moved room again), ended",
      labelNames: ["state"],
      registers,
    });
    this.dashboardRequests = new Counter({
      name: "room_watcher_gateway_dashboard_requests_total",
      help: "Requests to the dashboard's routes by outcome (unauthorized: no or a wrong metrics token)",
      labelNames: ["outcome"],
      registers,
    });
    this.messagesSent = new Counter({
      name: "room_watcher_gateway_messages_sent_total",
      help: "Messages sent to clients by type",
      labelNames: ["type"],
      registers,
    });
    this.hints = new Counter({
      name: "room_watcher_gateway_hints_total",
      help: "Readiness hints by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.closes = new Counter({
      name: "room_watcher_gateway_closes_total",
      help: "Connections closed by the gateway or its WebSocket library (1002, 1007, 1008, 1009), by close code",
      labelNames: ["code"],
      registers,
    });
    this.protocolErrors = new Counter({
      name: "room_watcher_gateway_protocol_errors_total",
      help: "Client messages the gateway could not act on, by error code",
      labelNames: ["code"],
      registers,
    });
    this.refusals = new Counter({
      name: "room_watcher_gateway_refusals_total",
      help: "Sockets and subscribes turned away by the abuse limits, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.tickets = new Counter({
      name: "room_watcher_gateway_tickets_total",
      help: "Room tickets presented at connect: accepted, or why refused (malformed, oversized, bad_signature, unknown_key, expired, too_long_lived, in_url, not_accepted, several)",
      labelNames: ["outcome"],
      registers,
    });
    this.notFoundMemory = new Counter({
      name: "room_watcher_gateway_not_found_memory_total",
      help: "Subscribes to a room that ended as not found moments ago, answered from memory without an upstream look",
      registers,
    });
    if (options.shared === true) {
      new Gauge({
        name: "room_watcher_gateway_redis_connected",
        help: "1 while both connections to Redis (commands, pub/sub) are up, else 0",
        registers,
        collect() {
          this.set(gauges.redisConnected() ? 1 : 0);
        },
      });
      this.redisLink = new Counter({
        name: "room_watcher_gateway_redis_link_total",
        help: "Changes of the link to Redis: lost, alone (gone for a lease TTL), back, resynced (every room claimed again)",
        labelNames: ["state"],
        registers,
      });
      this.resyncs = new Counter({
        name: "room_watcher_gateway_resyncs_total",
        help: "Rooms resynced here (a fresh snapshot to their subscribers): gap (a follower missed a message), cluster_state (this instance was out of step with the state in Redis)",
        labelNames: ["cause"],
        registers,
      });
    }
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "room_watcher_gateway_" });
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
