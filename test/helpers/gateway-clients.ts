/**
 * Gateway clients as an application makes them: one WebSocket source (quick to reconnect, for tests),
 * optionally behind withFallback, one fleet, and a started RoomWatcher per room.
 */
import { expect, onTestFinished } from "vitest";
import type { PollingSource } from "../../src/core/source.js";
import { WebSocketSource, type WebSocketSourceOptions } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { type FallbackSource, withFallback, type WithFallbackOptions } from "../../src/watch/with-fallback.js";

export interface GatewayClient {
  readonly source: WebSocketSource;
  /** The source the watchers use when the client was made with a fallback. */
  readonly fallback: FallbackSource | undefined;
  readonly fleet: Fleet;
  readonly watchers: Map<string, RoomWatcher>;
}

export function gatewayClient(
  url: string,
  roomIds: readonly string[],
  options: Partial<WebSocketSourceOptions> = {},
  fallback?: WithFallbackOptions & { readonly polling: PollingSource },
): GatewayClient {
  const source = new WebSocketSource({ url, initialReconnectDelayMs: 20, maxReconnectDelayMs: 200, ...options });
  const withPolling = fallback === undefined ? undefined : withFallback(source, fallback.polling, fallback);
  const fleet = new Fleet();
  const watched = withPolling ?? source;
  const watchers = new Map(roomIds.map((roomId) => [roomId, new RoomWatcher({ roomId, source: watched, fleet, timeoutMs: 60_000 }).start()]));
  // Stopped by disposeGatewayClients() at the test's end; this also stops them when the test failed first.
  onTestFinished(() => fleet.close());
  return { source, fallback: withPolling, fleet, watchers };
}

/** Stops every watcher and fleet, and checks each source is left with no timer. */
export async function disposeGatewayClients(clients: readonly GatewayClient[]): Promise<void> {
  await Promise.all(clients.flatMap((c) => [...c.watchers.values()].map((w) => w.stop())));
  await Promise.all(clients.map((c) => c.fleet.close()));
  for (const c of clients) expect(c.source.pendingTimers).toBe(0);
}
