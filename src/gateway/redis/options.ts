/**
 * The shared mode's options and the names it uses in Redis. Nothing here loads the Redis client: the
 * gateway imports it only in shared mode.
 */
import { createHash, randomBytes } from "node:crypto";
import { retryDelayMs } from "../../core/backoff.js";
import { ConfigError } from "../../core/errors.js";
import { validateDurationMs } from "../../core/validate.js";

/** How long a room's owner holds it without renewing: the longest a dead owner's rooms go unwatched. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 10_000;
/** Cap of the delay between attempts to reach a lost Redis. */
export const DEFAULT_REDIS_RECONNECT_MAX_DELAY_MS = 2_000;
export const DEFAULT_KEY_PREFIX = "room-watcher:";
const MIN_LEASE_TTL_MS = 300;

/** Shared mode: several gateways on one Redis share one upstream watch per room. */
export interface GatewayRedisOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). Its password never reaches a log, a metric or an error. */
  url: string;
  /** How long a room's owner holds it without renewing (renewed every third of it). Default 10,000 ms; at least 300. */
  leaseTtlMs?: number | undefined;
  /** Prefix of every key and channel. Default "room-watcher:". Gateways of different upstreams never share keys. */
  keyPrefix?: string | undefined;
  /** This instance's name in leases and logs ([A-Za-z0-9_-], at most 64). Default the pid and random characters. */
  instanceId?: string | undefined;
  /** Give up starting when Redis has not answered within this. Default 10,000 ms. */
  connectTimeoutMs?: number | undefined;
  /** Cap of the delay between reconnection attempts. Default 2,000 ms. */
  maxReconnectDelayMs?: number | undefined;
}

/**
 * How a gateway's link to Redis stands: `lost` (owners keep polling; followers wait), `alone` (gone
 * for a lease TTL: this instance watches every room itself), `back` (reconnected: claiming every room
 * again), `resynced` (every room here has been claimed since: one owner each again).
 */
export type RedisLinkState = "lost" | "alone" | "back" | "resynced";

export interface ResolvedRedisOptions {
  readonly url: string;
  /** The URL without its credentials, for logs. */
  readonly safeUrl: string;
  /** The URL's password (as written, and decoded), to redact from anything a Redis error says. */
  readonly secrets: readonly string[];
  readonly leaseTtlMs: number;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly connectTimeoutMs: number;
  readonly maxReconnectDelayMs: number;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX_PATTERN = /^[A-Za-z0-9:._-]{0,64}$/;

export function resolveRedisOptions(options: string | GatewayRedisOptions): ResolvedRedisOptions {
  const given: GatewayRedisOptions = typeof options === "string" ? { url: options } : options;
  let url: URL;
  try {
    url = new URL(String(given.url));
  } catch {
    // The text may hold a password: never echo it.
    throw new ConfigError("redis must be a redis:// or rediss:// URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new ConfigError(`redis URL must be redis: or rediss:, not ${url.protocol}`);
  if (url.hostname === "") throw new ConfigError("redis URL needs a host");
  const leaseTtlMs = validateDurationMs("leaseTtlMs", given.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, { allowZero: false });
  if (leaseTtlMs < MIN_LEASE_TTL_MS || !Number.isFinite(leaseTtlMs)) throw new ConfigError(`leaseTtlMs must be at least ${MIN_LEASE_TTL_MS} and finite`);
  const keyPrefix = given.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (!PREFIX_PATTERN.test(keyPrefix)) throw new ConfigError("keyPrefix must be at most 64 characters of [A-Za-z0-9:._-]");
  const instanceId = given.instanceId ?? `${process.pid}-${randomBytes(4).toString("hex")}`;
  if (!ID_PATTERN.test(instanceId)) throw new ConfigError("instanceId must be 1..64 characters of [A-Za-z0-9_-]");
  return {
    url: url.href,
    safeUrl: `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`,
    secrets: redisUrlSecrets(url.href),
    leaseTtlMs,
    keyPrefix,
    instanceId,
    connectTimeoutMs: validateDurationMs("connectTimeoutMs", given.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS, { allowZero: false }),
    maxReconnectDelayMs: validateDurationMs("maxReconnectDelayMs", given.maxReconnectDelayMs ?? DEFAULT_REDIS_RECONNECT_MAX_DELAY_MS, { allowZero: false }),
  };
}

/** The secrets a Redis URL's text may hold (its password, as written and decoded), to redact from anything shown. */
export function redisUrlSecrets(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const { password } = new URL(text);
    if (password === "") return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Not valid percent-encoding: as written is all there is.
    }
    return decoded === password ? [password] : [password, decoded];
  } catch {
    return [];
  }
}

/**
 * The delay before an instance's next round of claims: a third of the lease TTL, jittered by ±10 %
 * so that instances do not claim in step. An owner thus renews two or three times per TTL, so one lost
 * claim never loses the lease. (Takeover does not wait for a round: a follower claims the moment the
 * lease it was told of lapses.)
 */
export function claimDelayMs(leaseTtlMs: number, random: () => number = Math.random): number {
  return (leaseTtlMs / 3) * (0.9 + 0.2 * random());
}

/** Delay before reconnection attempt `attempt` (1, 2, ...) to a lost Redis: 100 ms doubling up to `maxDelayMs`, half of it jitter. */
export function reconnectDelayMs(attempt: number, maxDelayMs: number, random: () => number = Math.random): number {
  return retryDelayMs(attempt, { initialRetryDelayMs: 100, maxRetryDelayMs: maxDelayMs, maxRetryAfterMs: 0 }, random);
}

/**
 * A room's names in Redis (one Redis, not a Redis Cluster: a claim script touches many rooms' keys;
 * the braces around the room id are a hash tag all the same). `upstreamKey` (the source's key, no secrets) keeps
 * gateways of different upstreams or apps apart on one Redis.
 */
export class RedisNames {
  readonly #base: string;
  readonly channelPrefix: string;

  constructor(keyPrefix: string, upstreamKey: string) {
    const namespace = createHash("sha256").update(upstreamKey).digest("hex").slice(0, 12);
    this.#base = `${keyPrefix}${namespace}:`;
    this.channelPrefix = `${this.#base}room:`;
  }

  lease(roomId: string): string {
    return `${this.#base}{${roomId}}:lease`;
  }

  state(roomId: string): string {
    return `${this.#base}{${roomId}}:state`;
  }

  channel(roomId: string): string {
    return this.channelPrefix + roomId;
  }

  /** The room a channel is about, or undefined for a channel that is not ours. */
  roomOf(channel: string): string | undefined {
    return channel.startsWith(this.channelPrefix) ? channel.slice(this.channelPrefix.length) : undefined;
  }
}
