/**
 * Gateway clients as an application makes them: one WebSocket source (quick to reconnect, for tests),
 * one fleet, and a started RoomWatcher per room.
 */
import { expect, onTestFinished } from "vitest";
import { WebSocketSource, type WebSocketSourceOptions } from "../../src/sources/websocket-source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";

export interface GatewayClient {
  readonly source: WebSocketSource;
  readonly fleet: Fleet;
  readonly watchers: Map<string, RoomWatcher>;
}

export function gatewayClient(url: string, roomIds: readonly string[], options: Partial<WebSocketSourceOptions> = {}): GatewayClient {
  const source = new WebSocketSource({ url, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, ...options });
  const fleet = new Fleet();
  const watchers = new Map(roomIds.map((roomId) => [roomId, new RoomWatcher({ roomId, source, fleet, timeoutMs: 60_000 }).start()]));
  // Stopped by disposeGatewayClients() at the test's end; this also stops them when the test failed first.
  onTestFinished(() => fleet.close());
  return { source, fleet, watchers };
}

/** Stops every watcher and fleet, and checks each source is left with no timer. */
export async function disposeGatewayClients(clients: readonly GatewayClient[]): Promise<void> {
  await Promise.all(clients.flatMap((c) => [...c.watchers.values()].map((w) => w.stop())));
  await Promise.all(clients.map((c) => c.fleet.close()));
  for (const c of clients) expect(c.source.pendingTimers).toBe(0);
}
