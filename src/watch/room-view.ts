/**
 * A room view: one room's state machine fed by a source listener, the evidence of what it saw, and
 * the events its changes imply. The one implementation behind a RoomWatcher (with a deadline and a
 * signal, which it adds around the view), a Fleet's own view of each room (no deadline, no signal)
 * and the gateway room hub's view of each room (which emits nothing: the hub broadcasts what it
 * observes and reads the view's state to know when the room has ended).
 *
 * State is committed before anything is emitted, and every emit goes through the one safe emit, so
 * a listener that throws cannot corrupt the view or whoever fed it.
 */
import { type EvidenceLog } from "../core/evidence.js";
import type { PollResult } from "../core/observation.js";
import { assertNever, isTerminal, type RoomInput, type RoomState, type RoomTransitionEvent, transition } from "../core/room-state.js";
import { type EmitterOf, safeEmit } from "../core/safe-emit.js";
import type { SourceListener, TransientFailure } from "../core/source.js";
import type { RoomWatcherEvents } from "./events.js";

/** What a view emits to: a RoomWatcher, or a Fleet (whose map adds `paused`). */
export type RoomViewEmitter = EmitterOf<RoomWatcherEvents>;

interface ViewCommon {
  readonly roomId: string;
  /** The state to start from (a fresh `initialState(...)`). */
  readonly state: RoomState;
  /** Runs once a change is committed and before it is emitted: a watcher drops its deadline and its feed here. */
  readonly committed?: ((state: RoomState) => void) | undefined;
}

/** A view that emits carries the evidence its `terminated` event reports; a view that does not, neither. */
export type RoomViewOptions = ViewCommon &
  ({ readonly emitter: RoomViewEmitter; readonly evidence: EvidenceLog } | { readonly emitter?: undefined; readonly evidence?: undefined });

/** Methods on a prototype, not closures per room: a fleet or a hub holds one view per room, 100,000 of them. */
export class RoomView implements SourceListener {
  readonly roomId: string;
  readonly #emitter: RoomViewEmitter | undefined;
  readonly #evidence: EvidenceLog | undefined;
  readonly #committed: ((state: RoomState) => void) | undefined;
  #state: RoomState;

  constructor(options: RoomViewOptions) {
    this.roomId = options.roomId;
    this.#state = options.state;
    this.#emitter = options.emitter;
    this.#evidence = options.evidence;
    this.#committed = options.committed;
  }

  get state(): RoomState {
    return this.#state;
  }

  /** Replaces the state without a transition or an event: a watcher that starts afresh, a hub that adopts the cluster's record. */
  reset(state: RoomState): void {
    this.#state = state;
  }

  /** Runs `input` through the state machine; on a change, commits it, then emits what it implies. */
  apply(input: RoomInput): void {
    const from = this.#state;
    const { state, events } = transition(from, input);
    if (state === from) return;
    this.#state = state;
    this.#committed?.(state);
    if (this.#emitter !== undefined && this.#evidence !== undefined) emitChange(this.#emitter, this.roomId, from, state, events, input.at, this.#evidence);
  }

  onResult(result: PollResult, at: number): void {
    this.#evidence?.answered(result.observation, result.hint);
    const emitter = this.#emitter;
    if (emitter !== undefined) for (const warning of result.warnings) safeEmit(emitter, "warning", Object.freeze({ ...warning, roomId: this.roomId, at }));
    this.apply({ type: "observed", at, observation: result.observation });
  }

  onTransientFailure(failure: TransientFailure): void {
    if (isTerminal(this.#state)) return;
    this.#evidence?.failed(failure.error);
    if (this.#emitter !== undefined) safeEmit(this.#emitter, "error", Object.freeze({ roomId: this.roomId, ...failure }));
  }

  onFatal(error: unknown, at: number): void {
    this.#evidence?.failed(error);
    this.apply({ type: "failed", at, cause: error });
  }

  onClosed(at: number): void {
    this.apply({ type: "stopped", at });
  }
}

/** A `status` event when the status changed, then one frozen payload per transition event. */
function emitChange(
  emitter: RoomViewEmitter,
  roomId: string,
  from: RoomState,
  to: RoomState,
  events: readonly RoomTransitionEvent[],
  at: number,
  evidence: EvidenceLog,
): void {
  if (from.status !== to.status) safeEmit(emitter, "status", Object.freeze({ roomId, from: from.status, to: to.status, at }));
  for (const event of events) {
    switch (event.type) {
      case "starting":
        safeEmit(emitter, "starting", Object.freeze({ roomId, at: event.at, rescheduled: event.previous !== undefined, previous: event.previous }));
        break;
      case "active":
        safeEmit(
          emitter,
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
          emitter,
          "terminated",
          Object.freeze({ roomId, reason: event.reason, lastConnection: event.lastConnection, cause: event.cause, hostState: event.hostState, detail: event.detail, at: event.at, evidence: evidence.snapshot() }),
        );
        break;
      default:
        assertNever(event);
    }
  }
}
