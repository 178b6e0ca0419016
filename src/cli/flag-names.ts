/**
 * The library names its options (`pollIntervalMs`, "base URL"); a CLI user knows the flags that set
 * them (`--poll-interval`, `--base-url`). Each command lists the library names its flags feed, and a
 * ConfigError the library throws is retold in those terms before the user sees it. The CLI refuses
 * what it can itself (src/cli/args.ts); this covers what only the library knows, such as rules
 * that tie two options together.
 */
import { ConfigError } from "../core/errors.js";

/** Library name (an option, or the phrase its messages use) -> the flag that sets it. */
export type FlagNames = Readonly<Record<string, string>>;

/** `wait` and `watch`. */
export const WATCH_FLAG_NAMES: FlagNames = {
  pollIntervalMs: "--poll-interval",
  activePollIntervalMs: "--active-poll-interval",
  timeoutMs: "--timeout",
  "base URL": "--base-url",
  baseUrl: "--base-url",
  "app id": "--app-id",
  "gateway URL": "--gateway",
  fallbackAfterMs: "--gateway-fallback-after",
  // A phrase, not the bare word: "ticket" also appears in the middle of the message.
  "ticket is not": "--ticket is not",
};

export const GATEWAY_FLAG_NAMES: FlagNames = {
  "base URL": "--base-url",
  baseUrl: "--base-url",
  "app id": "--app-id",
  maxConnections: "--max-connections",
  maxSubscriptionsPerConnection: "--max-subscriptions",
  maxFrameBytes: "--max-frame-bytes",
  maxBufferedBytes: "--max-buffered-bytes",
  heartbeatIntervalMs: "--heartbeat-interval",
  handshakeTimeoutMs: "--handshake-timeout",
  maxPendingSocketsPerAddress: "--max-pending-per-address",
  maxPendingSockets: "--max-pending-sockets",
  maxFailedAuthsPerMinute: "--max-failed-auths",
  maxUnseenRoomsPerConnection: "--max-unseen-rooms",
  maxRooms: "--max-rooms",
  metricsToken: "--metrics-token",
  dashboard: "--dashboard",
  maxRequestsPerSecond: "--max-requests-per-second",
  maxInFlight: "--max-in-flight",
  activePollIntervalMs: "--active-poll-interval",
  "redis URL": "--redis",
  // Not the bare word: "redis" also starts the "redis://" the message goes on to show.
  "redis must be": "--redis must be",
  leaseTtlMs: "--lease-ttl",
  instanceId: "--instance-id",
  hintToken: "--hint-token",
  "webhook secret": "--webhook-secret",
  clientToken: "--client-token",
  "allowed origin": "--allowed-origin",
  ticketSecretPrevious: "--ticket-secret-previous",
  ticketSecret: "--ticket-secret",
};

/** `ticket`: mintTicket's option names, as its flags. */
export const TICKET_FLAG_NAMES: FlagNames = {
  // Phrases, not the bare word: "rooms" also appears in the middle of messages.
  "rooms must": "--room must",
  "rooms names": "--room names",
  "invalid room id": "invalid --room",
  ttlMs: "--ttl",
  keyId: "--key-id",
};

export const SIMULATE_FLAG_NAMES: FlagNames = {
  timeScale: "--time-scale",
  "app id": "--app-id",
};

export const DEMO_FLAG_NAMES: FlagNames = {
  timeScale: "--time-scale",
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `message` with every library name in `names` replaced by its flag (whole words only). */
export function inFlagTerms(message: string, names: FlagNames): string {
  return Object.entries(names).reduce(
    (text, [name, flag]) => text.replace(new RegExp(`(?<![\\w-])${escapeRegExp(name)}(?![\\w])`, "g"), flag),
    message,
  );
}

/** A ConfigError told in flags (the original kept as its cause); any other error as it is. */
export function withFlagNames(error: unknown, names: FlagNames): unknown {
  if (!(error instanceof ConfigError)) return error;
  const message = inFlagTerms(error.message, names);
  return message === error.message ? error : new ConfigError(message, { cause: error });
}
