/** The source a watch (or a fleet's default) describes with options: `source` itself, or the Hathora HTTP API. */
import type { RoomSource } from "../core/source.js";
import { HathoraHttpSource, type HathoraSourceOptions } from "../providers/hathora/http-source.js";

export interface SourceOptions extends Partial<Omit<HathoraSourceOptions, "clock">> {
  /** Where to look (polled or pushed). Default: the Hathora HTTP API, built from appId, baseUrl, token, apiVersion and fetch. */
  source?: RoomSource | undefined;
}

/** `source`, or a HathoraHttpSource when `appId` is given; undefined when the options name neither. */
export function sourceFromOptions(options: SourceOptions): RoomSource | undefined {
  if (options.source !== undefined) return options.source;
  if (options.appId === undefined) return undefined;
  return new HathoraHttpSource({
    appId: options.appId,
    baseUrl: options.baseUrl,
    token: options.token,
    apiVersion: options.apiVersion,
    fetch: options.fetch,
    requestTimeoutMs: options.requestTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
  });
}
