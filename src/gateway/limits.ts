/** The gateway's limits: each configurable, each with a default sized for one busy process. */
import { ConfigError } from "../core/errors.js";

export interface GatewayLimits {
  /** Largest client frame accepted; a larger one closes the connection with 1009. Default 4,096 bytes. */
  maxFrameBytes?: number | undefined;
  /** Rooms one connection may subscribe to; more get a `too_many_subscriptions` error. Default 1,000. */
  maxSubscriptionsPerConnection?: number | undefined;
  /** Open connections; the next one is closed with 1013. Default 20,000. */
  maxConnections?: number | undefined;
  /** Bytes queued for one connection before it is closed as a slow consumer (4429). Default 1 MiB. */
  maxBufferedBytes?: number | undefined;
  /** Invalid messages in a row before the connection is closed with 4400. Default 20. */
  maxInvalidMessages?: number | undefined;
  /** Ping every connection this often; one that has not answered the previous ping is terminated. Default 15,000 ms; 0 disables. */
  heartbeatIntervalMs?: number | undefined;
}

export type ResolvedGatewayLimits = { readonly [K in keyof GatewayLimits]-?: number };

export const DEFAULT_GATEWAY_LIMITS: ResolvedGatewayLimits = Object.freeze({
  maxFrameBytes: 4_096,
  maxSubscriptionsPerConnection: 1_000,
  maxConnections: 20_000,
  maxBufferedBytes: 1024 * 1024,
  maxInvalidMessages: 20,
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
  return Object.freeze(resolved);
}
