/** The gateway's limits: each configurable, each with a default sized for one busy process. */
import { ConfigError } from "../core/errors.js";

export interface GatewayLimits {
  /** Largest client frame accepted; a larger one closes the connection with 1009. Default 4,096 bytes. */
  maxFrameBytes?: number | undefined;
  /** Rooms one connection may subscribe to; more get a `too_many_subscriptions` error. Default 1,000. */
  maxSubscriptionsPerConnection?: number | undefined;
  /** Open connections; the next one is closed with 1013. Default 20,000, or less to fit under the process's descriptor limit. */
  maxConnections?: number | undefined;
  /** Sockets accepted and not yet upgraded (handshakes, plain HTTP requests); past it a new one is destroyed. Default 1,000, or less to fit under the descriptor limit. */
  maxPendingSockets?: number | undefined;
  /** Sockets not yet upgraded from one client address (trusted proxies exempt). Default 64. */
  maxPendingSocketsPerAddress?: number | undefined;
  /** Time a socket has to send its headers and be upgraded (or finish a plain request's headers) before it is destroyed. Default 5,000 ms. */
  handshakeTimeoutMs?: number | undefined;
  /** Failed authentications (and connections closed with 4400) a minute from one client address; past it its handshakes and hints are refused with 429 until the rate falls back. Default 20. */
  maxFailedAuthsPerMinute?: number | undefined;
  /** Readiness hints a minute from one client address; past it they are refused with 429. Default 3,000 (burst 50). */
  maxHintsPerMinutePerAddress?: number | undefined;
  /** Rooms never seen to exist that one connection may be subscribed to at once. Default 256. */
  maxUnseenRoomsPerConnection?: number | undefined;
  /** Rooms watched by this gateway at once; a subscribe to one more is refused. Default 50,000. */
  maxRooms?: number | undefined;
  /** Bytes queued for one connection before it is closed as a slow consumer (4429). Default 1 MiB. */
  maxBufferedBytes?: number | undefined;
  /** Invalid messages among the last `invalidMessageWindow` before the connection is closed with 4400. Default 20. */
  maxInvalidMessages?: number | undefined;
  /** How many of a connection's latest messages `maxInvalidMessages` counts in. Default 100. */
  invalidMessageWindow?: number | undefined;
  /** Ping every connection this often; one that has not answered the previous ping is terminated. Default 15,000 ms; 0 disables. */
  heartbeatIntervalMs?: number | undefined;
}

export type ResolvedGatewayLimits = { readonly [K in keyof GatewayLimits]-?: number };

export const DEFAULT_GATEWAY_LIMITS: ResolvedGatewayLimits = Object.freeze({
  maxFrameBytes: 4_096,
  maxSubscriptionsPerConnection: 1_000,
  maxConnections: 20_000,
  maxPendingSockets: 1_000,
  maxPendingSocketsPerAddress: 64,
  handshakeTimeoutMs: 5_000,
  maxFailedAuthsPerMinute: 20,
  maxHintsPerMinutePerAddress: 3_000,
  maxUnseenRoomsPerConnection: 256,
  maxRooms: 50_000,
  maxBufferedBytes: 1024 * 1024,
  maxInvalidMessages: 20,
  invalidMessageWindow: 100,
  heartbeatIntervalMs: 15_000,
});

export function resolveGatewayLimits(limits: GatewayLimits = {}): ResolvedGatewayLimits {
  const resolved = {} as Record<keyof GatewayLimits, number>;
  for (const key of Object.keys(DEFAULT_GATEWAY_LIMITS) as Array<keyof GatewayLimits>) {
    const value = limits[key] ?? DEFAULT_GATEWAY_LIMITS[key];
    const zeroAllowed = key === "heartbeatIntervalMs";
    if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1)) {
      throw new ConfigError(`${key} must be a ${zeroAllowed ? "non-negative" : "positive"} integer, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  if (resolved.invalidMessageWindow < resolved.maxInvalidMessages) {
    throw new ConfigError(`invalidMessageWindow (${resolved.invalidMessageWindow}) must be at least maxInvalidMessages (${resolved.maxInvalidMessages})`);
  }
  return Object.freeze(resolved);
}
