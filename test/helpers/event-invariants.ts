/**
 * The promises every room's event stream keeps, as one checker: property tests run it on the pure
 * state machine's events and on what a real RoomWatcher emits. It returns the violations (empty when
 * the stream is sound), so a failing property names what broke instead of a bare `false`.
 */
import { type Connection, sameConnection } from "../../src/core/observation.js";
import type { EventEmitter } from "eventemitter3";
import { ALLOWED_TRANSITIONS, type RoomStatus } from "../../src/core/room-state.js";
import type { RoomWatcherEvents } from "../../src/watch/events.js";

/** A room event in the shape both the state machine and a watcher can be reduced to. */
export type RecordedEvent =
  | { readonly type: "status"; readonly at: number; readonly from: RoomStatus; readonly to: RoomStatus }
  | { readonly type: "starting"; readonly at: number; readonly previous: Connection | undefined; readonly rescheduled?: boolean | undefined }
  | { readonly type: "active"; readonly at: number; readonly connection: Connection; readonly moved: boolean; readonly previous: Connection | undefined }
  | { readonly type: "terminated"; readonly at: number; readonly reason: string; readonly lastConnection: Connection | undefined };

const sameOrBothUndefined = (a: Connection | undefined, b: Connection | undefined): boolean =>
  a === undefined || b === undefined ? a === b : sameConnection(a, b);

const describeConnection = (c: Connection | undefined): string =>
  c === undefined ? "none" : `${c.exposedPort.host}:${c.exposedPort.port}/${c.exposedPort.transportType}+${c.additionalExposedPorts.length}`;

/**
 * Violations of the event invariants: at most one `terminated` and nothing after it; no two
 * `starting` in a row; no two `active` in a row on the same connection; every change of status an
 * edge of ALLOWED_TRANSITIONS; `moved`, `previous`, `rescheduled` and `lastConnection` telling the
 * room's history truthfully (an `active` after an earlier `active` says moved, and names the
 * connection before); times never going backwards. With `withStatus`, also: every change of status
 * is announced by a `status` event right before the event of the new state, and `from` chains.
 */
export function eventViolations(events: readonly RecordedEvent[], { withStatus = false } = {}): string[] {
  const problems: string[] = [];
  let status: RoomStatus = "unknown";
  let last: Connection | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  let previousEvent: RecordedEvent | undefined;
  let announced: RoomStatus | undefined;
  let terminatedAt: number | undefined;

  events.forEach((event, index) => {
    const where = `#${index} ${event.type}`;
    if (terminatedAt !== undefined) problems.push(`${where}: emitted after terminated (#${terminatedAt})`);
    if (event.at < lastAt) problems.push(`${where}: at ${event.at} is before the previous event's ${lastAt}`);
    lastAt = event.at;

    if (event.type === "status") {
      if (!withStatus) problems.push(`${where}: unexpected status event`);
      if (event.from !== status) problems.push(`${where}: from ${event.from} but the room was ${status}`);
      if (event.from === event.to) problems.push(`${where}: a status event with no change (${event.to})`);
      if (announced !== undefined) problems.push(`${where}: status to ${announced} was not followed by its event`);
      announced = event.to;
      previousEvent = event;
      return;
    }

    const next: RoomStatus = event.type;
    if (withStatus) {
      if (next !== status && announced !== next) problems.push(`${where}: the change ${status} > ${next} had no status event right before it`);
      if (announced !== undefined && announced !== next) problems.push(`${where}: announced ${announced}, got ${next}`);
      announced = undefined;
    }
    if (!ALLOWED_TRANSITIONS[status].includes(next)) problems.push(`${where}: ${status} > ${next} is not an allowed transition`);

    switch (event.type) {
      case "starting":
        if (status === "starting") problems.push(`${where}: two starting events in a row`);
        if (!sameOrBothUndefined(event.previous, last)) {
          problems.push(`${where}: previous is ${describeConnection(event.previous)}, the room last had ${describeConnection(last)}`);
        }
        if (event.rescheduled !== undefined && event.rescheduled !== (last !== undefined)) {
          problems.push(`${where}: rescheduled is ${String(event.rescheduled)} but the room had ${last === undefined ? "never" : "already"} been active`);
        }
        break;
      case "active":
        if (previousEvent?.type === "active" && sameConnection(previousEvent.connection, event.connection)) {
          problems.push(`${where}: a second active event on the same connection ${describeConnection(event.connection)}`);
        }
        if (event.moved !== (last !== undefined)) {
          problems.push(`${where}: moved is ${String(event.moved)} but the room had ${last === undefined ? "never" : "already"} been active`);
        }
        if (!sameOrBothUndefined(event.previous, last)) {
          problems.push(`${where}: previous is ${describeConnection(event.previous)}, the room last had ${describeConnection(last)}`);
        }
        last = event.connection;
        break;
      case "terminated":
        if (!sameOrBothUndefined(event.lastConnection, last)) {
          problems.push(`${where}: lastConnection is ${describeConnection(event.lastConnection)}, the room last had ${describeConnection(last)}`);
        }
        terminatedAt = index;
        break;
      default: {
        const never: never = event;
        problems.push(`unexpected event ${JSON.stringify(never)}`);
      }
    }
    status = next;
    previousEvent = event;
  });
  if (announced !== undefined) problems.push(`the last status event (to ${announced}) was not followed by its event`);
  return problems;
}

/** Listens to every lifecycle event of a watcher or fleet and records it for eventViolations. */
export function recordEvents(target: EventEmitter<RoomWatcherEvents>): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  target.on("status", (e) => events.push({ type: "status", at: e.at, from: e.from, to: e.to }));
  target.on("starting", (e) => events.push({ type: "starting", at: e.at, previous: e.previous, rescheduled: e.rescheduled }));
  target.on("active", (e) =>
    events.push({
      type: "active",
      at: e.at,
      connection: { exposedPort: e.exposedPort, additionalExposedPorts: e.additionalExposedPorts },
      moved: e.moved,
      previous: e.previous,
    }),
  );
  target.on("terminated", (e) => events.push({ type: "terminated", at: e.at, reason: e.reason, lastConnection: e.lastConnection }));
  return events;
}
