/**
 * The request budget of a fleet: how many requests may be in flight at once, how many may start per
 * second, and a fleet-wide pause after a 429. Rooms that are due queue here; the scheduler grants
 * turns in order of urgency (a room's first look before anything routine, then the longest-waiting
 * first), so a room created now is not starved by thousands of old ones.
 *
 * Turns may name a tenant (the gateway names the connection that asked for a room never seen to exist):
 * those are looks nobody has vouched for, and anyone may ask for them by the thousand. They come after
 * every turn without a tenant, except for a floor of half their slice, which they take even while rooms
 * already seen keep the fleet busy (else a new room's first look could wait forever behind rooms polled
 * often); they take at most a slice (`unseenShare`) of the requests in flight and of the rate, and within
 * that slice the tenants take turns: the one served least goes first (ties: the
 * one with fewest turns waiting), and a tenant that arrives starts level with the least served, so a
 * tenant with one room is not queued behind one with a thousand, nor behind every other tenant.
 *
 * The rate is a GCRA (generic cell rate algorithm, a token bucket without the bucket): a request may
 * start once `now >= tat - tolerance`, then `tat` moves one emission interval on. Over any window of W
 * ms at most W / interval + burst requests start.
 */
import type { Clock } from "./clock.js";
import { ConfigError } from "./errors.js";
import { MinHeap } from "./min-heap.js";
import type { TimerHandle, TimerHeap } from "./timer-heap.js";

/** Lower goes first. */
export const Urgency = {
  /** A room's first look: tells a new room's caller where it stands at once. */
  FIRST_LOOK: 0,
  /** A look brought forward: a sibling on the same process changed, or a hint. */
  PROMPTED: 1,
  /** A retry after a failure. */
  RETRY: 2,
  /** The next look of the schedule. */
  ROUTINE: 3,
} as const;
export type Urgency = (typeof Urgency)[keyof typeof Urgency];

export interface RequestSchedulerOptions {
  /** Requests in flight at once. */
  readonly maxInFlight: number;
  /** Requests started per second; Infinity for no limit. */
  readonly maxRequestsPerSecond: number;
  /** Requests that may start back to back after an idle spell. At least 1. */
  readonly burst: number;
  /** The share of `maxInFlight` and of the rate that turns with a tenant may take, in (0, 1]. Default 1/2. */
  readonly unseenShare?: number | undefined;
}

/** Who asked for a look at a room never seen to exist; turns of one tenant share its place in the slice. */
export type Tenant = string | number;

/** The default share of the budget for looks at rooms never seen. */
export const DEFAULT_UNSEEN_SHARE = 0.5;

/** A place in the queue, until granted or cancelled. */
export interface QueuedTurn {
  readonly urgency: Urgency;
  /** When the turn became due; earlier goes first within an urgency. */
  readonly dueAt: number;
}

interface Entry extends QueuedTurn {
  readonly seq: number;
  /** The tenant's queue for a turn with a tenant; undefined for the others. */
  readonly queue: TenantQueue | undefined;
  /** Runs when the request may start; the grantee then owes one `release()`. Cleared once granted or cancelled. */
  grant: (() => void) | undefined;
}

interface TenantQueue {
  readonly tenant: Tenant;
  readonly heap: MinHeap<Entry>;
  waiting: number;
  /** Turns granted: the fairness key (a tenant that arrives starts level with the least served, not at 0). */
  served: number;
}

export class RequestScheduler {
  readonly #clock: Clock;
  readonly #timers: TimerHeap;
  readonly #maxInFlight: number;
  readonly #maxRequestsPerSecond: number;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  readonly #heap = new MinHeap<Entry>(before);
  readonly #tenants = new Map<Tenant, TenantQueue>();
  readonly #maxUnseenInFlight: number;
  readonly #unseenIntervalMs: number;
  readonly #unseenToleranceMs: number;
  #waiting = 0;
  #seq = 0;
  #inFlight = 0;
  #unseenInFlight = 0;
  #unseenTat = Number.NEGATIVE_INFINITY;
  /** When the next look at a room never seen may go ahead of rooms seen: the floor of their slice (GCRA). */
  #unseenFloorTat = Number.NEGATIVE_INFINITY;
  readonly #unseenFloorIntervalMs: number;
  #started = 0;
  /** Theoretical arrival time of the next request (GCRA). */
  #tat = Number.NEGATIVE_INFINITY;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #wake: TimerHandle | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #pumping = false;

  constructor(clock: Clock, timers: TimerHeap, options: RequestSchedulerOptions) {
    this.#clock = clock;
    this.#timers = timers;
    this.#maxInFlight = options.maxInFlight;
    this.#maxRequestsPerSecond = options.maxRequestsPerSecond;
    this.#intervalMs = Number.isFinite(options.maxRequestsPerSecond) ? 1000 / options.maxRequestsPerSecond : 0;
    this.#toleranceMs = (Math.max(1, options.burst) - 1) * this.#intervalMs;
    const share = options.unseenShare ?? DEFAULT_UNSEEN_SHARE;
    if (!(share > 0 && share <= 1)) throw new ConfigError(`unseenShare must be in (0, 1], got ${share}`);
    this.#maxUnseenInFlight = Math.max(1, Math.floor(options.maxInFlight * share));
    this.#unseenIntervalMs = this.#intervalMs / share;
    this.#unseenFloorIntervalMs = (2 * this.#intervalMs) / share;
    this.#unseenToleranceMs = Math.max(0, Math.floor(Math.max(1, options.burst) * share) - 1) * this.#unseenIntervalMs;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Turns queued and not yet granted. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Turns with a tenant queued and not yet granted. */
  get waitingUnseen(): number {
    let waiting = 0;
    for (const queue of this.#tenants.values()) waiting += queue.waiting;
    return waiting;
  }

  /** Requests granted so far. */
  get started(): number {
    return this.#started;
  }

  /** Requests started per second at most (the budget); Infinity for no limit. */
  get maxRequestsPerSecond(): number {
    return this.#maxRequestsPerSecond;
  }

  /** Until when new requests wait after a 429 (a clock time; in the past when not paused). */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /**
   * Queues a turn. `grant` may run before this returns, when the budget allows at once. With a `tenant`,
   * the turn is a look nobody vouched for: it waits in that tenant's place in the slice (see above), and
   * its grantee releases with the same tenant.
   */
  enqueue(urgency: Urgency, dueAt: number, grant: () => void, tenant?: Tenant): QueuedTurn {
    const queue = tenant === undefined ? undefined : this.#queueOf(tenant);
    const entry: Entry = { urgency, dueAt, seq: this.#seq++, grant, queue };
    if (queue === undefined) this.#heap.push(entry);
    else {
      queue.heap.push(entry);
      queue.waiting++;
    }
    this.#waiting++;
    this.#pump();
    return entry;
  }

  /** Takes a queued turn out of the queue; does nothing once it was granted or cancelled. */
  cancel(turn: QueuedTurn): void {
    const entry = turn as Entry;
    if (entry.grant === undefined) return;
    entry.grant = undefined;
    this.#waiting--;
    if (entry.queue !== undefined && --entry.queue.waiting === 0) this.#tenants.delete(entry.queue.tenant);
    if (this.#waiting === 0) {
      this.#heap.clear();
      this.#tenants.clear();
      this.#sleepUntil(Number.POSITIVE_INFINITY);
    }
  }

  /** Resolves when a request may start (the caller then owes one `release()`); rejects with `signal.reason` on abort. */
  acquire(urgency: Urgency, signal: AbortSignal, tenant?: Tenant): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      // Listen before queueing: the turn may be granted at once, inside enqueue, and must find the
      // listener there to remove (added after, it would stay on the signal for good).
      const onAbort = (): void => {
        this.cancel(queued);
        reject(signal.reason as Error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const queued = this.enqueue(
        urgency,
        this.#clock.now(),
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        tenant,
      );
    });
  }

  /** Ends a granted request, freeing its slot; `tenant` as the turn was queued with. */
  release(tenant?: Tenant): void {
    this.#inFlight--;
    if (tenant !== undefined) this.#unseenInFlight--;
    this.#pump();
  }

  /** No request starts before `until` (a 429 with Retry-After says so for the whole upstream). True when that extends the pause. */
  pauseUntil(until: number): boolean {
    if (until <= this.#pausedUntil) return false;
    this.#pausedUntil = until;
    this.#pump();
    return true;
  }

  /** Drops every queued turn and timer (the fleet is closing). */
  clear(): void {
    for (let entry = this.#heap.pop(); entry !== undefined; entry = this.#heap.pop()) entry.grant = undefined;
    for (const queue of this.#tenants.values()) for (let entry = queue.heap.pop(); entry !== undefined; entry = queue.heap.pop()) entry.grant = undefined;
    this.#tenants.clear();
    this.#waiting = 0;
    this.#sleepUntil(Number.POSITIVE_INFINITY);
  }

  #pump(): void {
    // A grant may start a request that fails synchronously and releases at once: no recursion.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        this.#dropCancelled();
        const seen = this.#heap.peek();
        const tenant = this.#unseenInFlight < this.#maxUnseenInFlight ? this.#nextTenant() : undefined;
        // Rooms seen first, but rooms never seen are owed their floor: one goes ahead once it is due. The
        // floor's clock starts when they are first passed over, so they never jump the queue on arrival.
        const clockNow = this.#clock.now();
        if (tenant !== undefined && seen !== undefined && this.#unseenFloorTat < clockNow - this.#unseenFloorIntervalMs) {
          this.#unseenFloorTat = clockNow + this.#unseenFloorIntervalMs;
        }
        const unseen = tenant !== undefined && (seen === undefined || clockNow >= this.#unseenFloorTat) ? tenant : undefined;
        if (seen === undefined && unseen === undefined) {
          // Nothing waiting, or only looks nobody vouched for with their slice in flight: release() pumps again.
          this.#sleepUntil(Number.POSITIVE_INFINITY);
          return;
        }
        if (this.#inFlight >= this.#maxInFlight) {
          // release() pumps again.
          this.#sleepUntil(Number.POSITIVE_INFINITY);
          return;
        }
        const now = this.#clock.now();
        let allowedAt = Math.max(this.#pausedUntil, this.#tat - this.#toleranceMs);
        if (unseen !== undefined) allowedAt = Math.max(allowedAt, this.#unseenTat - this.#unseenToleranceMs);
        if (now < allowedAt) {
          this.#sleepUntil(allowedAt);
          return;
        }
        const top = (unseen === undefined ? this.#heap.pop() : unseen.heap.pop()) as Entry;
        const grant = top.grant as () => void;
        top.grant = undefined;
        this.#waiting--;
        this.#inFlight++;
        this.#started++;
        // Timers wake on whole milliseconds, after the (fractional) time the request was allowed: count
        // it from then, or the rounding adds up and a rate of 30/s (33.3 ms) runs at 29.4/s (34 ms).
        const startAt = now - allowedAt < 1 ? allowedAt : now;
        this.#tat = Math.max(this.#tat, startAt) + this.#intervalMs;
        if (unseen !== undefined) {
          this.#unseenInFlight++;
          this.#unseenTat = Math.max(this.#unseenTat, startAt) + this.#unseenIntervalMs;
          this.#unseenFloorTat = Math.max(this.#unseenFloorTat, startAt) + this.#unseenFloorIntervalMs;
          unseen.served++;
          if (--unseen.waiting === 0) this.#tenants.delete(unseen.tenant);
        }
        grant();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #queueOf(tenant: Tenant): TenantQueue {
    let queue = this.#tenants.get(tenant);
    if (queue === undefined) {
      let served = Number.POSITIVE_INFINITY;
      for (const other of this.#tenants.values()) served = Math.min(served, other.served);
      queue = { tenant, heap: new MinHeap<Entry>(before), waiting: 0, served: Number.isFinite(served) ? served : 0 };
      this.#tenants.set(tenant, queue);
    }
    return queue;
  }

  /** The tenant whose turn is next: served least, then fewest waiting, then the longest known. */
  #nextTenant(): TenantQueue | undefined {
    let next: TenantQueue | undefined;
    for (const queue of this.#tenants.values()) {
      while (queue.heap.size > 0 && queue.heap.peek()?.grant === undefined) queue.heap.pop();
      if (next === undefined || queue.served < next.served || (queue.served === next.served && queue.waiting < next.waiting)) next = queue;
    }
    return next;
  }

  #sleepUntil(at: number): void {
    if (at === this.#wakeAt) return;
    this.#wake?.cancel();
    this.#wake = undefined;
    this.#wakeAt = at;
    if (Number.isFinite(at)) {
      // Timers have millisecond resolution: wake at the first whole millisecond that is allowed.
      this.#wake = this.#timers.at(Math.ceil(at), () => {
        this.#wake = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.#pump();
      });
    }
  }

  #dropCancelled(): void {
    while (this.#heap.size > 0 && this.#heap.peek()?.grant === undefined) this.#heap.pop();
  }
}

function before(a: Entry, b: Entry): boolean {
  if (a.urgency !== b.urgency) return a.urgency < b.urgency;
  if (a.dueAt !== b.dueAt) return a.dueAt < b.dueAt;
  return a.seq < b.seq;
}
