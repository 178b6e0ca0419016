/**
 * The room state machine: pure, no timers, no I/O.
 *
 *   unknown ──▶ starting ──▶ active ──▶ terminated
 *      │           ▲  │        │  ▲
 *      │           │  └────────┼──┼──▶ terminated
 *      │           └───────────┘  │          (active ▶ starting: rescheduled onto another process)
 *      └──▶ active                └── active ▶ active with a new port: moved without a starting poll seen
 *      └──▶ terminated
 *
 * `terminated` is final. ALLOWED_TRANSITIONS lists every edge; transition() never takes another.
 */
import type { Connection, Observation } from "./observation.js";
import { EndReason, sameConnection } from "./observation.js";

/** Why a watch ended: what the host said (an EndReason), or what the watch itself decided. */
export const TerminationReason = {
  ...EndReason,
  /** 404 from the first look on, for longer than the not-found grace. */
  NOT_FOUND: "not_found",
  /** The room did not become active before the deadline. */
  TIMEOUT: "timeout",
  /** The caller's AbortSignal fired. */
  ABORTED: "aborted",
  /** stop() was called. */
  STOPPED: "stopped",
  /** A terminal error (400, 401, 402, 403, 422, a run of invalid payloads, bad configuration). */
  FAILED: "failed",
} as const;
export type TerminationReason = (typeof TerminationReason)[keyof typeof TerminationReason];

export type RoomState =
  | {
      readonly status: "unknown";
      readonly since: number;
      /** A 404 before this instant means "not created yet", not "gone". */
      readonly notFoundGraceUntil: number;
    }
  | {
      readonly status: "starting";
      readonly since: number;
      /** The connection the room had before it was rescheduled; undefined on a first start. */
      readonly previous: Connection | undefined;
    }
  | {
      readonly status: "active";
      readonly since: number;
      readonly connection: Connection;
      /** Whether the room had been active elsewhere before (it was rescheduled). */
      readonly moved: boolean;
    }
  | {
      readonly status: "terminated";
      readonly since: number;
      readonly reason: TerminationReason;
      readonly lastConnection: Connection | undefined;
      readonly cause: unknown;
      /** The host's own word for the state the room ended in, when it gave one. */
      readonly hostState: string | undefined;
      /** What the host said went wrong, when it said. */
      readonly detail: string | undefined;
    };
export type RoomStatus = RoomState["status"];

export type RoomInput =
  | { readonly type: "observed"; readonly at: number; readonly observation: Observation }
  /** The deadline to become active passed. Ignored once active. */
  | { readonly type: "deadline"; readonly at: number }
  | { readonly type: "aborted"; readonly at: number; readonly cause: unknown }
  | { readonly type: "stopped"; readonly at: number }
  | { readonly type: "failed"; readonly at: number; readonly cause: unknown };

export type RoomTransitionEvent =
  | { readonly type: "starting"; readonly at: number; readonly previous: Connection | undefined }
  | {
      readonly type: "active";
      readonly at: number;
      readonly connection: Connection;
      readonly moved: boolean;
      readonly previous: Connection | undefined;
    }
  | {
      readonly type: "terminated";
      readonly at: number;
      readonly reason: TerminationReason;
      readonly lastConnection: Connection | undefined;
      readonly cause: unknown;
      readonly hostState: string | undefined;
      readonly detail: string | undefined;
    };

export interface Transition {
  readonly state: RoomState;
  readonly events: readonly RoomTransitionEvent[];
}

/** Every edge the machine may take; a same-status step with no event is "no change". */
export const ALLOWED_TRANSITIONS: Readonly<Record<RoomStatus, readonly RoomStatus[]>> = {
  unknown: ["starting", "active", "terminated"],
  starting: ["active", "terminated"],
  active: ["starting", "active", "terminated"],
  terminated: [],
};

export function initialState(now: number, notFoundGraceMs: number): RoomState {
  return { status: "unknown", since: now, notFoundGraceUntil: now + notFoundGraceMs };
}

export function isTerminal(state: RoomState): state is Extract<RoomState, { status: "terminated" }> {
  return state.status === "terminated";
}

/** The connection the room has, or last had. */
export function lastConnectionOf(state: RoomState): Connection | undefined {
  switch (state.status) {
    case "unknown":
      return undefined;
    case "starting":
      return state.previous;
    case "active":
      return state.connection;
    case "terminated":
      return state.lastConnection;
    default:
      return assertNever(state);
  }
}

const unchanged = (state: RoomState): Transition => ({ state, events: [] });

/** What the host said of the ending, when the host ended the room. */
interface HostWords {
  readonly hostState?: string | undefined;
  readonly detail?: string | undefined;
}

function terminate(state: RoomState, at: number, reason: TerminationReason, cause: unknown, words: HostWords = {}): Transition {
  const lastConnection = lastConnectionOf(state);
  const { hostState, detail } = words;
  return {
    state: { status: "terminated", since: at, reason, lastConnection, cause, hostState, detail },
    events: [{ type: "terminated", at, reason, lastConnection, cause, hostState, detail }],
  };
}

function becomeActive(state: RoomState, at: number, connection: Connection): Transition {
  const previous = lastConnectionOf(state);
  const moved = previous !== undefined;
  return {
    state: { status: "active", since: at, connection, moved },
    events: [{ type: "active", at, connection, moved, previous }],
  };
}

function observe(state: Exclude<RoomState, { status: "terminated" }>, at: number, observation: Observation): Transition {
  switch (observation.kind) {
    case "unrecognized":
      return unchanged(state);
    case "ended":
      return terminate(state, at, observation.reason, undefined, observation);
    case "not_found":
      if (state.status === "unknown") {
        return at < state.notFoundGraceUntil ? unchanged(state) : terminate(state, at, "not_found", undefined);
      }
      return terminate(state, at, "destroyed", undefined);
    case "starting":
      if (state.status === "starting") return unchanged(state);
      {
        const previous = lastConnectionOf(state);
        return { state: { status: "starting", since: at, previous }, events: [{ type: "starting", at, previous }] };
      }
    case "active":
      if (state.status === "active" && sameConnection(state.connection, observation.connection)) {
        return unchanged(state);
      }
      return becomeActive(state, at, observation.connection);
    default:
      return assertNever(observation);
  }
}

/** The next state and the events it implies. Pure: the same inputs always give the same output. */
export function transition(state: RoomState, input: RoomInput): Transition {
  if (state.status === "terminated") return unchanged(state);
  switch (input.type) {
    case "observed":
      return observe(state, input.at, input.observation);
    case "deadline":
      return state.status === "active" ? unchanged(state) : terminate(state, input.at, "timeout", undefined);
    case "aborted":
      return terminate(state, input.at, "aborted", input.cause);
    case "stopped":
      return terminate(state, input.at, "stopped", undefined);
    case "failed":
      return terminate(state, input.at, "failed", input.cause);
    default:
      return assertNever(input);
  }
}

export function assertNever(value: never): never {
  throw new TypeError(`unexpected value: ${JSON.stringify(value)}`);
}
