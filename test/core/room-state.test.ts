import { describe, expect, it } from "vitest";
import type { Connection, Observation } from "../../src/core/observation.js";
import {
  ALLOWED_TRANSITIONS,
  initialState,
  type RoomInput,
  type RoomState,
  type RoomStatus,
  transition,
} from "../../src/core/room-state.js";

const port = (p: number) => ({ host: "h.example", port: p, transportType: "udp", name: "default" });
const conn = (p: number): Connection => ({ exposedPort: port(p), additionalExposedPorts: [] });
const GRACE = 1_000;

const states: Record<string, RoomState> = {
  unknown: initialState(0, GRACE),
  starting: { status: "starting", since: 0, previous: undefined },
  rescheduling: { status: "starting", since: 0, previous: conn(1) },
  active: { status: "active", since: 0, connection: conn(1), moved: false },
  terminated: { status: "terminated", since: 0, reason: "destroyed", lastConnection: undefined, cause: undefined, hostState: undefined, detail: undefined },
};

const observed = (observation: Observation, at = 10): RoomInput => ({ type: "observed", at, observation });
const inputs: Record<string, RoomInput> = {
  starting: observed({ kind: "starting" }),
  active1: observed({ kind: "active", connection: conn(1) }),
  active2: observed({ kind: "active", connection: conn(2) }),
  notFoundEarly: observed({ kind: "not_found" }, 10),
  notFoundLate: observed({ kind: "not_found" }, 5_000),
  destroyed: observed({ kind: "ended", reason: "destroyed" }),
  suspended: observed({ kind: "ended", reason: "suspended" }),
  shutdown: observed({ kind: "ended", reason: "shutdown", hostState: "Shutdown" }),
  hostError: observed({ kind: "ended", reason: "error", hostState: "ERROR", detail: "image pull failed" }),
  deleted: observed({ kind: "ended", reason: "deleted" }),
  unrecognized: observed({ kind: "unrecognized", status: "warming" }),
  deadline: { type: "deadline", at: 10 },
  aborted: { type: "aborted", at: 10, cause: new Error("bye") },
  stopped: { type: "stopped", at: 10 },
  failed: { type: "failed", at: 10, cause: new Error("401") },
};

// [state, input, expected status after, expected event types, expected reason]
const table: Array<[string, string, RoomStatus, string[], string?]> = [
  ["unknown", "starting", "starting", ["starting"]],
  ["unknown", "active1", "active", ["active"]],
  ["unknown", "notFoundEarly", "unknown", []],
  ["unknown", "notFoundLate", "terminated", ["terminated"], "not_found"],
  ["unknown", "destroyed", "terminated", ["terminated"], "destroyed"],
  ["unknown", "suspended", "terminated", ["terminated"], "suspended"],
  ["starting", "shutdown", "terminated", ["terminated"], "shutdown"],
  ["starting", "hostError", "terminated", ["terminated"], "error"],
  ["active", "deleted", "terminated", ["terminated"], "deleted"],
  ["unknown", "unrecognized", "unknown", []],
  ["unknown", "deadline", "terminated", ["terminated"], "timeout"],
  ["unknown", "aborted", "terminated", ["terminated"], "aborted"],
  ["unknown", "stopped", "terminated", ["terminated"], "stopped"],
  ["unknown", "failed", "terminated", ["terminated"], "failed"],
  ["starting", "starting", "starting", []],
  ["starting", "active1", "active", ["active"]],
  ["starting", "notFoundEarly", "terminated", ["terminated"], "destroyed"],
  ["starting", "destroyed", "terminated", ["terminated"], "destroyed"],
  ["starting", "unrecognized", "starting", []],
  ["starting", "deadline", "terminated", ["terminated"], "timeout"],
  ["starting", "failed", "terminated", ["terminated"], "failed"],
  ["active", "active1", "active", []],
  ["active", "active2", "active", ["active"]],
  ["active", "starting", "starting", ["starting"]],
  ["active", "notFoundEarly", "terminated", ["terminated"], "destroyed"],
  ["active", "suspended", "terminated", ["terminated"], "suspended"],
  ["active", "deadline", "active", []],
  ["active", "aborted", "terminated", ["terminated"], "aborted"],
  ["rescheduling", "active2", "active", ["active"]],
  ["rescheduling", "deadline", "terminated", ["terminated"], "timeout"],
];

describe("transition", () => {
  it.each(table)("%s + %s -> %s", (from, input, to, eventTypes, reason) => {
    const before = states[from] as RoomState;
    const result = transition(before, inputs[input] as RoomInput);
    expect(result.state.status).toBe(to);
    expect(result.events.map((e) => e.type)).toEqual(eventTypes);
    if (reason !== undefined) expect(result.state).toMatchObject({ reason });
    if (eventTypes.length === 0) expect(result.state).toBe(before);
    else expect(ALLOWED_TRANSITIONS[before.status]).toContain(to);
  });

  it("terminated is final: no input changes it or emits", () => {
    for (const input of Object.values(inputs)) {
      const result = transition(states.terminated as RoomState, input);
      expect(result.state).toBe(states.terminated);
      expect(result.events).toEqual([]);
    }
  });

  it("never takes an edge outside ALLOWED_TRANSITIONS, and never goes back to unknown", () => {
    for (const state of Object.values(states)) {
      for (const input of Object.values(inputs)) {
        const { state: next, events } = transition(state, input);
        if (events.length > 0) expect(ALLOWED_TRANSITIONS[state.status]).toContain(next.status);
        if (state.status !== "unknown") expect(next.status).not.toBe("unknown");
      }
    }
  });

  it("active -> starting -> active with a new port says the room moved and carries the new port", () => {
    let state = states.active as RoomState;
    const second = transition(state, inputs.starting as RoomInput);
    expect(second.events).toEqual([{ type: "starting", at: 10, previous: conn(1) }]);
    state = second.state;
    const third = transition(state, inputs.active2 as RoomInput);
    expect(third.events).toEqual([{ type: "active", at: 10, connection: conn(2), moved: true, previous: conn(1) }]);
  });

  it("a port change without a starting look in between is a move too", () => {
    const { events } = transition(states.active as RoomState, inputs.active2 as RoomInput);
    expect(events).toEqual([{ type: "active", at: 10, connection: conn(2), moved: true, previous: conn(1) }]);
  });

  it("terminated keeps the last connection and the cause", () => {
    const cause = new Error("401");
    const { state } = transition(states.active as RoomState, { type: "failed", at: 3, cause });
    expect(state).toEqual({ status: "terminated", since: 3, reason: "failed", lastConnection: conn(1), cause, hostState: undefined, detail: undefined });
  });

  it("an ending the host reports keeps the host's own word and detail, in the state and the event", () => {
    const { state, events } = transition(states.active as RoomState, inputs.hostError as RoomInput);
    expect(state).toEqual({ status: "terminated", since: 10, reason: "error", lastConnection: conn(1), cause: undefined, hostState: "ERROR", detail: "image pull failed" });
    expect(events).toEqual([{ type: "terminated", at: 10, reason: "error", lastConnection: conn(1), cause: undefined, hostState: "ERROR", detail: "image pull failed" }]);
  });

  it("the not-found grace ends at since + grace", () => {
    const start = initialState(100, 50);
    expect(transition(start, observed({ kind: "not_found" }, 149)).state).toBe(start);
    expect(transition(start, observed({ kind: "not_found" }, 150)).state).toMatchObject({ status: "terminated", reason: "not_found" });
  });
});
