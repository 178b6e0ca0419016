/**
 * What /healthz says, worked out from what the gateway knows at the moment: a pure function, so each
 * reason is tested without a socket.
 */

/**
 * What /healthz says: `ok`; `degraded` while most of the latest upstream requests fail or (shared mode)
 * Redis is disconnected, each cause in `reasons`; `draining` once close() has begun.
 */
export interface GatewayHealth {
  readonly status: "ok" | "degraded" | "draining";
  /** Why it is not ok, e.g. "redis: disconnected"; empty when ok. */
  readonly reasons: readonly string[];
}

/** Counts, for tests and /healthz. */
export interface GatewayStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly rooms: number;
  /** Rooms this instance watches upstream: all of `rooms` alone, its share of them in shared mode. */
  readonly ownedRooms: number;
  /** Upstream requests sent so far. */
  readonly upstreamRequests: number;
}

/** What the health is made of. */
export interface HealthFacts {
  /** Why the upstream is judged failing (UpstreamHealth.reason); undefined while it is fine. */
  readonly upstreamTrouble: string | undefined;
  /** The start-up probe's 404 did not look like the rooms API's, and no room's status has been answered since: its hint. */
  readonly probeDoubt: string | undefined;
  /** Shared mode and Redis is not reached. */
  readonly redisDown: boolean;
  /** close() has begun. */
  readonly draining: boolean;
}

export function gatewayHealth(facts: HealthFacts): GatewayHealth {
  const reasons: string[] = [];
  if (facts.upstreamTrouble !== undefined) reasons.push(facts.upstreamTrouble);
  if (facts.probeDoubt !== undefined) reasons.push(`upstream: the start-up probe's 404 did not come from the rooms API (${facts.probeDoubt})`);
  if (facts.redisDown) reasons.push("redis: disconnected");
  if (facts.draining) return { status: "draining", reasons: ["draining: the gateway is closing; new connections are refused", ...reasons] };
  return { status: reasons.length === 0 ? "ok" : "degraded", reasons };
}
