/**
 * waitForActive: resolves the room's connection the moment it is joinable. Concurrent waits for
 * the same room (same upstream, same fleet) share one poll loop.
 */
import { RoomTerminatedError, WaitTimeoutError } from "../core/errors.js";
import type { ExposedPort } from "../core/observation.js";
import { RoomWatcher, type RoomWatcherOptions } from "./room-watcher.js";

export type WaitForActiveOptions = RoomWatcherOptions;

/** What waitForActive resolves: where players connect. */
export interface ActiveConnection {
  readonly roomId: string;
  readonly exposedPort: ExposedPort;
  readonly additionalExposedPorts: readonly ExposedPort[];
  /** When the room was seen active (epoch ms). */
  readonly at: number;
}

/**
 * Resolves once the room is active. Rejects with RoomTerminatedError (destroyed, suspended,
 * not_found, failed), WaitTimeoutError after `timeoutMs` (default 120,000 ms), `signal.reason`
 * when aborted, or ConfigError for bad options. Leaves nothing running once settled.
 */
export function waitForActive(options: WaitForActiveOptions): Promise<ActiveConnection> {
  let watcher: RoomWatcher;
  try {
    watcher = new RoomWatcher(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (options.signal?.aborted) return Promise.reject(options.signal.reason as Error);
  return new Promise<ActiveConnection>((resolve, reject) => {
    watcher.once("active", (event) => {
      resolve(Object.freeze({ roomId: event.roomId, exposedPort: event.exposedPort, additionalExposedPorts: event.additionalExposedPorts, at: event.at }));
      void watcher.stop();
    });
    watcher.once("terminated", (event) => {
      switch (event.reason) {
        case "timeout":
          reject(new WaitTimeoutError(event.roomId, watcher.timeoutMs, event.evidence));
          return;
        case "aborted":
          reject(event.cause);
          return;
        default:
          reject(new RoomTerminatedError(event.roomId, event.reason, event.cause, event.evidence));
      }
    });
    watcher.start();
  });
}
