/** The events a RoomWatcher emits, each with one frozen payload object. */
import type { WatchEvidence } from "../core/evidence.js";
import type { Connection, Warning } from "../core/observation.js";
import type { RoomStatus, TerminationReason } from "../core/room-state.js";
import type { RoomWatcherError } from "../core/errors.js";
import type { ExposedPort } from "../core/observation.js";

export interface StartingEvent {
  readonly roomId: string;
  /** When it was observed (epoch ms). */
  readonly at: number;
  /** True when the room had been active and was rescheduled onto another process. */
  readonly rescheduled: boolean;
  /** The connection it had before it was rescheduled. */
  readonly previous: Connection | undefined;
}

export interface ActiveEvent {
  readonly roomId: string;
  /** Where players connect. */
  readonly exposedPort: ExposedPort;
  readonly additionalExposedPorts: readonly ExposedPort[];
  readonly at: number;
  /** True when the room had been active elsewhere before: this is its new address. */
  readonly moved: boolean;
  /** The connection it had before it moved. */
  readonly previous: Connection | undefined;
}

export interface TerminatedEvent {
  readonly roomId: string;
  readonly reason: TerminationReason;
  /** The last connection the room had, if it was ever active. */
  readonly lastConnection: Connection | undefined;
  /** What ended it, for `failed` and `aborted`. */
  readonly cause: unknown;
  /** The host's own word for the state the room ended in (Agones `Shutdown`, Edgegap `ERROR`), when the host ended it. */
  readonly hostState: string | undefined;
  /** What the host said went wrong (Edgegap's `error_detail`), when it said. */
  readonly detail: string | undefined;
  readonly at: number;
  /** What the watch saw of its upstream: where it looked, the looks answered and failed, the last error, a hint. */
  readonly evidence: WatchEvidence;
}

/** A transient failure. Watching goes on: the next look is in `nextDelayMs`. */
export interface ErrorEvent {
  readonly roomId: string;
  readonly error: RoomWatcherError;
  /** Failures in a row, 1 for the first. */
  readonly attempt: number;
  readonly nextDelayMs: number;
  readonly at: number;
}

export interface StatusEvent {
  readonly roomId: string;
  readonly from: RoomStatus;
  readonly to: RoomStatus;
  readonly at: number;
}

/** A value outside a documented enum (status, transport type): tolerated and reported. */
export interface WarningEvent extends Warning {
  readonly roomId: string;
  readonly at: number;
}

export interface RoomWatcherEvents {
  starting: [event: StartingEvent];
  active: [event: ActiveEvent];
  terminated: [event: TerminatedEvent];
  error: [event: ErrorEvent];
  status: [event: StatusEvent];
  warning: [event: WarningEvent];
}
