/**
 * The seam between the chaos soak and the rooms of a host other than the Hathora simulator (agones-rooms.ts,
 * edgegap-rooms.ts): each host makes its own rooms with a seeded plan, acts on what the watchers report
 * (deleting, stopping, allocating), runs its own chaos beside the soak's, and checks every room's final report
 * against its fake's truth. The soak watches them all in its one budgeted fleet.
 */
import type { ExposedPort } from "../../src/core/observation.js";
import type { RoomState } from "../../src/core/room-state.js";
import type { PollingSource, RoomSource } from "../../src/core/source.js";

/** Runs `fn` after `ms` real ms, on a timer the soak clears when it stops. */
export type Later = (ms: number, fn: () => void) => void;

export interface ProviderRoom {
  readonly roomId: string;
  /** What the soak does to the room, drawn per room. */
  readonly plan: string;
}

export interface ActiveSeen {
  readonly port: ExposedPort;
  readonly additional: readonly ExposedPort[];
}

export interface ProviderRooms<R extends ProviderRoom = ProviderRoom> {
  /** The mode the soak files these rooms under. */
  readonly name: string;
  /** What every room of this host is watched through, in the soak's fleet. */
  readonly source: RoomSource;
  /** Errors of the soak's own actions on the host (an allocation refused, say). */
  readonly errors: readonly string[];
  /** Timers the host's client still holds. */
  readonly pendingTimers: number;
  /** Creates the next room with its plan. */
  create(): R;
  /** The watcher said `starting`. */
  onStarting(room: R): void;
  /** The watcher said `active`. */
  onActive(room: R): void;
  /** Whether the watcher's state is the room's final truth. */
  agrees(room: R, state: RoomState): boolean;
  /** What is wrong with a room's active events, beyond `agrees`. */
  check(room: R, actives: readonly ActiveSeen[]): string[];
  /** The room's truth, for a mismatch's message. */
  describe(roomId: string): string;
  /** One step of the host's chaos; calls `next` when the next may start. */
  chaosStep(later: Later, next: () => void): void;
  /** Whether every kind of the host's chaos has had its step: the chaos goes on past its end until so. */
  readonly everyChaosKindRan: boolean;
  /** The chaos is over: no more faults. */
  calm(): void;
  /** Faults injected, by the fake and by the soak, and what the client saw of them. */
  faultCounts(): Record<string, number>;
  /** How many rooms reached each state of the host (the fake's truth). */
  truthCounts(): Record<string, number>;
  close(): Promise<void>;
}

/** Checks `met` every 50 ms, up to `maxMs`; then `after`. A burst of faults lasts until the client has met it. */
export function untilMet(later: Later, met: () => boolean, after: () => void, maxMs: number, waitedMs = 0): void {
  if (met() || waitedMs >= maxMs) after();
  else later(50, () => untilMet(later, met, after, maxMs, waitedMs + 50));
}

/** `count`'s growth since now: whether a burst has been met. */
export function grew(count: () => number): () => boolean {
  const before = count();
  return () => count() > before;
}

/** When each request of the soak's budgeted fleet started (real ms): all of them, and by budget key. */
export class RequestLog {
  readonly all: number[] = [];
  readonly #byBudget = new Map<string | undefined, number[]>();

  record(budget: string | undefined, at: number): void {
    this.all.push(at);
    let times = this.#byBudget.get(budget);
    if (times === undefined) this.#byBudget.set(budget, (times = []));
    times.push(at);
  }

  /** The requests of one budget (undefined: of the sources that declare none, which share the fleet's). */
  of(budget: string | undefined): readonly number[] {
    return this.#byBudget.get(budget) ?? [];
  }
}

/** `source`, its budget kept, logging the real time each request starts (the soak checks the budgets and pauses on them). */
export function countingSource(source: PollingSource, log: RequestLog): PollingSource {
  return {
    key: source.key,
    budget: source.budget,
    ...(source.checkRoomId === undefined ? {} : { checkRoomId: (roomId: string) => source.checkRoomId!(roomId) }),
    ...(source.target === undefined ? {} : { target: (roomId: string) => source.target!(roomId) }),
    poll: (roomId, pollOptions) => {
      log.record(source.budget?.key, Date.now());
      return source.poll(roomId, pollOptions);
    },
  };
}
