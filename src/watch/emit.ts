/**
 * Turning a state change into events, for a RoomWatcher and for the fleet's own view of a room alike:
 * a `status` event when the status changed, then one frozen payload per transition event. A listener
 * that throws is reported, never allowed to break the caller.
 */
import type { EvidenceLog } from "../core/evidence.js";
import { warnListenerThrew } from "../core/listener-warning.js";
import { assertNever, type RoomState, type RoomTransitionEvent } from "../core/room-state.js";

/** Anything that emits events with one payload each: a RoomWatcher, a Fleet. */
export interface EventTarget {
  emit(name: string, payload: object): boolean;
}

/** Emits one event; a listener's exception becomes a process warning instead of reaching the caller. */
export function safeEmit(target: EventTarget, name: string, payload: object): void {
  try {
    target.emit(name, payload);
  } catch (error) {
    warnListenerThrew(name, error);
  }
}

/** `evidence` is what the view saw of the upstream; a `terminated` event carries its snapshot. */
export function emitChange(
  target: EventTarget,
  roomId: string,
  from: RoomState,
  to: RoomState,
  events: readonly RoomTransitionEvent[],
  at: number,
  evidence: EvidenceLog,
): void {
  if (from.status !== to.status) safeEmit(target, "status", Object.freeze({ roomId, from: from.status, to: to.status, at }));
  for (const event of events) {
    switch (event.type) {
      case "starting":
        safeEmit(target, "starting", Object.freeze({ roomId, at: event.at, rescheduled: event.previous !== undefined, previous: event.previous }));
        break;
      case "active":
        safeEmit(
          target,
          "active",
          Object.freeze({
            roomId,
            exposedPort: event.connection.exposedPort,
            additionalExposedPorts: event.connection.additionalExposedPorts,
            at: event.at,
            moved: event.moved,
            previous: event.previous,
          }),
        );
        break;
      case "terminated":
        safeEmit(
          target,
          "terminated",
          Object.freeze({ roomId, reason: event.reason, lastConnection: event.lastConnection, cause: event.cause, at: event.at, evidence: evidence.snapshot() }),
        );
        break;
      default:
        assertNever(event);
    }
  }
}
