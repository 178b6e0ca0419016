/**
 * waitForActive: resolves the room's connection the moment it is joinable. Concurrent waits for
 * the same room (same upstream, same fleet) share one poll loop.
 *
 * Shaped like xstate's `waitFor`: an aborted signal is answered before anything is built, and every
 * way out (active, each rejection, abort) goes through one dispose, which
 * leaves no listener, timer or feed behind.
 */
import { RoomTerminatedError, WaitTimeoutError } from "../core/errors.js";
import type { ExposedPort } from "../core/observation.js";
import type { ActiveEvent, TerminatedEvent } from "./events.js";
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
 * when aborted (at once, before the options are even read, when it already is), or ConfigError
 * for bad options. Leaves nothing running once settled.
 */
export function waitForActive(options: WaitForActiveOptions): Promise<ActiveConnection> {
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let watcher: RoomWatcher;
  try {
    watcher = new RoomWatcher(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<ActiveConnection>((resolve, reject) => {
    const dispose = (): void => {
      watcher.off("active", onActive);
      watcher.off("terminated", onTerminated);
      // Ends the watch if it has not ended (it has, on every rejection): its deadline, its abort
      // listener and its place in the feed go with it.
      void watcher.stop();
    };
    const onActive = (event: ActiveEvent): void => {
      dispose();
      resolve(Object.freeze({ roomId: event.roomId, exposedPort: event.exposedPort, additionalExposedPorts: event.additionalExposedPorts, at: event.at }));
    };
    const onTerminated = (event: TerminatedEvent): void => {
      dispose();
      reject(terminationError(event, watcher.timeoutMs));
    };
    watcher.on("active", onActive);
    watcher.on("terminated", onTerminated);
    watcher.start();
  });
}

function terminationError(event: TerminatedEvent, timeoutMs: number): unknown {
  switch (event.reason) {
    case "timeout":
      return new WaitTimeoutError(event.roomId, timeoutMs, event.evidence);
    case "aborted":
      return event.cause;
    default:
      return new RoomTerminatedError(event.roomId, event.reason, event.cause, event.evidence, event);
  }
}
