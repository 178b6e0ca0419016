/** The options `wait` and `watch` share, and how they become RoomWatcher options. */
import { validateToken } from "../sources/validate.js";
import type { RoomWatcherOptions } from "../watch/room-watcher.js";
import type { CliIo } from "./io.js";

export interface WatchCliOptions {
  appId: string;
  baseUrl: string;
  token?: string | undefined;
  apiVersion: "v1" | "v2";
  /** Deadline in ms; 0 for none. */
  timeout: number;
  pollInterval?: number | undefined;
  /** `watch` only: delay between looks once active. */
  activePollInterval?: number | undefined;
  json: boolean;
}

export function roomWatcherOptions(roomId: string, options: WatchCliOptions, io: CliIo): RoomWatcherOptions {
  return {
    roomId,
    appId: options.appId,
    baseUrl: options.baseUrl,
    // Refused here, by flag, rather than sent and retried as a network error until the deadline.
    token: options.token === undefined || options.token === "" ? options.token : validateToken("--token (HATHORA_TOKEN)", options.token),
    apiVersion: options.apiVersion,
    timeoutMs: options.timeout === 0 ? Number.POSITIVE_INFINITY : options.timeout,
    pollIntervalMs: options.pollInterval,
    activePollIntervalMs: options.activePollInterval,
    signal: io.signal,
  };
}
