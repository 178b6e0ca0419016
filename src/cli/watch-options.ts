/** The options `wait` and `watch` share, and how they become RoomWatcher options. */
import type { Command } from "commander";
import { ConfigError } from "../core/errors.js";
import { isPushSource, type RoomSource } from "../core/source.js";
import { validateToken } from "../core/validate.js";
import { WebSocketSource } from "../sources/websocket-source.js";
import { DEFAULT_POLL_OPTIONS, type PollOptions } from "../watch/options.js";
import type { RoomWatcherOptions } from "../watch/room-watcher.js";
import { withFallback } from "../watch/with-fallback.js";
import type { CliIo } from "./io.js";
import { providerOf, upstreamOf, upstreamSecrets } from "./providers/index.js";

/** Besides these, the provider's own flags (`--app-id`, `--namespace`, ...), read by the provider: src/cli/providers/. */
export interface WatchCliOptions {
  /** `--provider`: where rooms live. Default hathora. */
  provider: string;
  /** Deadline in ms; 0 for none. */
  timeout: number;
  pollInterval?: number | undefined;
  /** `watch` only: delay between looks once active. */
  activePollInterval?: number | undefined;
  /** Watch through this room-watcher gateway (ws:// or wss://) instead of polling. */
  gateway?: string | undefined;
  /** The gateway's client token. */
  gatewayToken?: string | undefined;
  /** With --gateway: a room ticket instead of the token. */
  ticket?: string | undefined;
  /** With --gateway: poll the rooms API directly once the gateway has been unreachable this long (ms). */
  gatewayFallbackAfter?: number | undefined;
  json: boolean;
}

/** Every secret the options (and the variables they fall back to) hold, for redaction. */
export function watchSecrets(options: WatchCliOptions, io: CliIo): Array<string | undefined> {
  return [...upstreamSecrets(options, io.env), options.gatewayToken, options.ticket];
}

/**
 * The watch the flags describe. With --gateway, rooms come pushed over one WebSocket; while the gateway
 * is unreachable they are polled from the rooms API (--app-id, --base-url), through the library's
 * withFallback. The socket closes once the command's last watcher has stopped, whichever way
 * it ended (active, ended, timeout, Ctrl-C), so nothing keeps the process alive.
 */
export async function roomWatcherOptions(roomId: string, options: WatchCliOptions, io: CliIo, command?: Command): Promise<RoomWatcherOptions> {
  const pollOptions: PollOptions = {
    pollIntervalMs: options.pollInterval,
    // A first delay above the default cap would be refused by the library as "above maxPollIntervalMs",
    // a flag the CLI does not have: the cap follows the user's choice instead.
    maxPollIntervalMs: options.pollInterval !== undefined && options.pollInterval > DEFAULT_POLL_OPTIONS.maxPollIntervalMs ? options.pollInterval : undefined,
    activePollIntervalMs: options.activePollInterval,
  };
  // Tokens no header can carry are refused here, by flag, rather than sent and retried as a network
  // error until the deadline.
  const gatewayToken = options.gatewayToken === undefined ? undefined : validateToken("--gateway-token (ROOM_WATCHER_GATEWAY_TOKEN)", options.gatewayToken);
  if (options.ticket !== undefined && options.gateway === undefined) throw new ConfigError("--ticket (ROOM_WATCHER_TICKET) is for the gateway: give --gateway too");
  if (options.ticket !== undefined && gatewayToken !== undefined) throw new ConfigError("give --ticket or --gateway-token, not both: a client presents one credential");
  const credentials = { token: gatewayToken, ticket: options.ticket };
  let source: RoomSource;
  if (options.gateway === undefined) {
    source = (await upstreamOf(options, io, command)).source;
  } else if (providerOf(options, command).pushed === true) {
    // A pushed provider (Agones) has no poll to fall back to, and a player holds no credentials for it:
    // through the gateway only.
    source = new WebSocketSource({ url: options.gateway, ...credentials });
  } else {
    const upstream = (await upstreamOf(options, io, command)).source;
    if (isPushSource(upstream)) throw new ConfigError(`--provider ${options.provider} is pushed, with nothing to poll should the gateway be unreachable`);
    source = withFallback(new WebSocketSource({ url: options.gateway, ...credentials }), upstream, { fallbackAfterMs: options.gatewayFallbackAfter, pollOptions });
  }
  return {
    roomId,
    source,
    timeoutMs: options.timeout === 0 ? Number.POSITIVE_INFINITY : options.timeout,
    ...pollOptions,
    signal: io.signal,
  };
}
