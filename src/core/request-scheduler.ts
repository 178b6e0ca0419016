/**
 * The request budget of a fleet: how many requests may be in flight at once, how many may start per
 * second, and a pause after a 429. Rooms that are due queue here; the scheduler grants
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
 * Budgets within the budget: a source may declare its upstream's own limit (a RequestBudget: Edgegap's 20
 * status requests/s per organisation). Its turns wait in a lane of that budget's key, shared by every
 * source naming the key, which holds them to the budget's rate as well as the fleet's, has its own slice
 * and floor for looks nobody vouched for, and is paused alone by a 429. Sources that declare no budget
 * share the fleet's own lane. The lanes share the fleet's requests in flight and rate: each grant goes to
 * the most urgent turn (in the order above) among the lanes whose own budget allows one now, so a lane held
 * back by its rate or a pause never holds up the others, and gets its turns back as soon as it may.
 *
 * The rate is a GCRA (generic cell rate algorithm, a token bucket without the bucket): a request may
 * start once `now >= tat - tolerance`, then `tat` moves one emission interval on. Over any window of W
 * ms at most W / interval + burst requests start.
 */
import type { Clock } from "./clock.js";
import { ConfigError } from "./errors.js";
import { MinHeap } from "./min-heap.js";
import type { RequestBudget } from "./source.js";
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

/** Requests that may start back to back after a quiet spell, unless told: a twentieth of the rate, at least 1. */
export function defaultBurst(maxRequestsPerSecond: number): number {
  // With no rate limit there is no burst to speak of (and rate / 20 would be Infinity, not a burst).
  return Number.isFinite(maxRequestsPerSecond) ? Math.max(1, Math.floor(maxRequestsPerSecond / 20)) : 1;
}

/** A budget within the fleet's (a source's RequestBudget), or the fleet's own lane. */
export interface BudgetLane {
  /** The budget's key; undefined for the fleet's own lane (sources that declare no budget). */
  readonly key: string | undefined;
  /** Its own rate; Infinity for the fleet's lane, which has only the fleet's. */
  readonly maxRequestsPerSecond: number;
  /** Until when its requests wait after a 429 (a clock time; in the past when not paused). */
  readonly pausedUntil: number;
  /** Requests it has started. */
  readonly started: number;
}

interface Entry extends QueuedTurn {
  readonly seq: number;
  readonly lane: Lane;
  /** The tenant's queue for a turn with a tenant; undefined for the others. */
  readonly queue: TenantQueue | undefined;
  /** Runs when the request may start; the grantee then owes one `release()`. Cleared once granted or cancelled. */
  grant: (() => void) | undefined;
}

interface TenantQueue {
  readonly tenant: Tenant;
  readonly lane: Lane;
  readonly heap: MinHeap<Entry>;
  waiting: number;
  /** Turns granted: the fairness key (a tenant that arrives starts level with the least served, not at 0). */
  served: number;
}

/** A GCRA rate: a request may start from `tat - tolerance` on; each start moves `tat` one interval on. */
class Rate {
  #intervalMs = 0;
  #toleranceMs = 0;
  /** Theoretical arrival time of the next request. */
  #tat = Number.NEGATIVE_INFINITY;

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** `perSecond` (Infinity: no limit) with `burst` back to back; or, with `share`, that share of it (its burst too). */
  set(perSecond: number, burst: number, share = 1): this {
    this.#intervalMs = (Number.isFinite(perSecond) ? 1000 / perSecond : 0) / share;
    this.#toleranceMs = Math.max(0, Math.floor(Math.max(1, burst) * share) - 1) * this.#intervalMs;
    return this;
  }

  get allowedAt(): number {
    return this.#tat - this.#toleranceMs;
  }

  take(startAt: number): void {
    this.#tat = Math.max(this.#tat, startAt) + this.#intervalMs;
  }
}

/** The turns of one budget (or of the fleet's own), its rate and slice, and its pause. */
class Lane implements BudgetLane {
  readonly key: string | undefined;
  maxRequestsPerSecond = Number.POSITIVE_INFINITY;
  #burst = Number.POSITIVE_INFINITY;
  pausedUntil = Number.NEGATIVE_INFINITY;
  started = 0;
  readonly heap = new MinHeap<Entry>(before);
  readonly tenants = new Map<Tenant, TenantQueue>();
  readonly rate = new Rate();
  /** The slice of the rate for turns with a tenant. */
  readonly unseenRate = new Rate();
  floorIntervalMs = 0;
  /** When the next look at a room never seen may go ahead of rooms seen: the floor of their slice (GCRA). */
  floorTat = Number.NEGATIVE_INFINITY;

  constructor(key: string | undefined) {
    this.key = key;
  }

  /**
   * Holds the lane to `perSecond` and `burst` where they are stricter than what it has: sources naming one
   * key speak of one limit, and the strictest word on it is the safe one. Its floor is half its slice of
   * the lower of its rate and the fleet's.
   */
  limit(perSecond: number, burst: number, share: number, fleetIntervalMs: number): void {
    if (perSecond >= this.maxRequestsPerSecond && burst >= this.#burst) return;
    this.maxRequestsPerSecond = Math.min(this.maxRequestsPerSecond, perSecond);
    this.#burst = Math.min(this.#burst, burst);
    this.rate.set(this.maxRequestsPerSecond, this.#burst);
    this.unseenRate.set(this.maxRequestsPerSecond, this.#burst, share);
    this.floorIntervalMs = (2 * Math.max(this.rate.intervalMs, fleetIntervalMs)) / share;
  }

  dropCancelled(): void {
    while (this.heap.size > 0 && this.heap.peek()?.grant === undefined) this.heap.pop();
  }

  /** The tenant whose turn is next: served least, then fewest waiting, then the longest known. */
  nextTenant(): TenantQueue | undefined {
    let next: TenantQueue | undefined;
    for (const queue of this.tenants.values()) {
      while (queue.heap.size > 0 && queue.heap.peek()?.grant === undefined) queue.heap.pop();
      if (next === undefined || queue.served < next.served || (queue.served === next.served && queue.waiting < next.waiting)) next = queue;
    }
    return next;
  }

  queueOf(tenant: Tenant): TenantQueue {
    let queue = this.tenants.get(tenant);
    if (queue === undefined) {
      let served = Number.POSITIVE_INFINITY;
      for (const other of this.tenants.values()) served = Math.min(served, other.served);
      queue = { tenant, lane: this, heap: new MinHeap<Entry>(before), waiting: 0, served: Number.isFinite(served) ? served : 0 };
      this.tenants.set(tenant, queue);
    }
    return queue;
  }

  clear(): void {
    for (let entry = this.heap.pop(); entry !== undefined; entry = this.heap.pop()) entry.grant = undefined;
    for (const queue of this.tenants.values()) for (let entry = queue.heap.pop(); entry !== undefined; entry = queue.heap.pop()) entry.grant = undefined;
    this.tenants.clear();
  }
}

/** Where a turn may come from, in the order they go: rooms never seen owed their floor, rooms seen, the rest of the never seen. */
const Rank = { FLOOR: 0, SEEN: 1, UNSEEN: 2 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];

/** The next turn of one lane of one kind: its lane's vouched turns (`queue` undefined) or a tenant's. */
interface Candidate {
  readonly lane: Lane;
  readonly queue: TenantQueue | undefined;
  readonly top: Entry;
  readonly rank: Rank;
  /** When the fleet's budget and the lane's allow it. */
  readonly allowedAt: number;
}

function goesFirst(a: Candidate, b: Candidate): boolean {
  return a.rank !== b.rank ? a.rank < b.rank : before(a.top, b.top);
}

export class RequestScheduler {
  readonly #clock: Clock;
  readonly #timers: TimerHeap;
  readonly #maxInFlight: number;
  readonly #maxRequestsPerSecond: number;
  readonly #share: number;
  readonly #rate: Rate;
  readonly #unseenRate: Rate;
  readonly #maxUnseenInFlight: number;
  /** The fleet's own lane first, then a lane per budget key in the order first named. */
  readonly #lanes: Lane[];
  readonly #laneByKey = new Map<string, Lane>();
  #waiting = 0;
  #seq = 0;
  #inFlight = 0;
  #unseenInFlight = 0;
  #started = 0;
  #wake: TimerHandle | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #pumping = false;

  constructor(clock: Clock, timers: TimerHeap, options: RequestSchedulerOptions) {
    this.#clock = clock;
    this.#timers = timers;
    this.#maxInFlight = options.maxInFlight;
    this.#maxRequestsPerSecond = options.maxRequestsPerSecond;
    const share = options.unseenShare ?? DEFAULT_UNSEEN_SHARE;
    if (!(share > 0 && share <= 1)) throw new ConfigError(`unseenShare must be in (0, 1], got ${share}`);
    this.#share = share;
    this.#rate = new Rate().set(options.maxRequestsPerSecond, options.burst);
    this.#unseenRate = new Rate().set(options.maxRequestsPerSecond, options.burst, share);
    this.#maxUnseenInFlight = Math.max(1, Math.floor(options.maxInFlight * share));
    const fleetLane = new Lane(undefined);
    // No rate of its own (the fleet's holds it), but the fleet's floor for its looks at rooms never seen.
    fleetLane.floorIntervalMs = (2 * this.#rate.intervalMs) / share;
    this.#lanes = [fleetLane];
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
    for (const lane of this.#lanes) for (const queue of lane.tenants.values()) waiting += queue.waiting;
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

  /** Until when requests of sources that declare no budget wait after a 429 (a clock time; in the past when not paused). */
  get pausedUntil(): number {
    return this.#fleetLane.pausedUntil;
  }

  /** The fleet's own lane and one per budget named so far. */
  get lanes(): readonly BudgetLane[] {
    return this.#lanes;
  }

  /**
   * The lane of `budget`, made when first named (undefined: the fleet's own lane). Sources naming one key
   * share it, held to the strictest rate and burst any of them declares. A ConfigError for a budget that
   * can never work.
   */
  lane(budget?: RequestBudget): BudgetLane {
    if (budget === undefined) return this.#fleetLane;
    const { key, maxRequestsPerSecond } = budget;
    if (typeof key !== "string" || key === "") throw new ConfigError("a request budget needs a key: whose limit it is");
    if (!(maxRequestsPerSecond > 0)) throw new ConfigError(`request budget ${key}: maxRequestsPerSecond must be positive, got ${maxRequestsPerSecond}`);
    const burst = budget.burst ?? defaultBurst(maxRequestsPerSecond);
    if (!Number.isFinite(burst) || burst < 1) throw new ConfigError(`request budget ${key}: burst must be at least 1, got ${burst}`);
    let lane = this.#laneByKey.get(key);
    if (lane === undefined) {
      lane = new Lane(key);
      this.#laneByKey.set(key, lane);
      this.#lanes.push(lane);
    }
    lane.limit(maxRequestsPerSecond, burst, this.#share, this.#rate.intervalMs);
    return lane;
  }

  /**
   * Queues a turn in `lane` (default the fleet's own). `grant` may run before this returns, when the
   * budget allows at once. With a `tenant`, the turn is a look nobody vouched for: it waits in that
   * tenant's place in its lane's slice (see above), and its grantee releases with the same tenant.
   */
  enqueue(urgency: Urgency, dueAt: number, grant: () => void, tenant?: Tenant, lane?: BudgetLane): QueuedTurn {
    const of = this.#own(lane);
    const queue = tenant === undefined ? undefined : of.queueOf(tenant);
    const entry: Entry = { urgency, dueAt, seq: this.#seq++, lane: of, grant, queue };
    if (queue === undefined) of.heap.push(entry);
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
    if (entry.queue !== undefined && --entry.queue.waiting === 0) entry.lane.tenants.delete(entry.queue.tenant);
    if (this.#waiting === 0) {
      for (const lane of this.#lanes) lane.clear();
      this.#sleepUntil(Number.POSITIVE_INFINITY);
    }
  }

  /** Resolves when a request may start (the caller then owes one `release()`); rejects with `signal.reason` on abort. */
  acquire(urgency: Urgency, signal: AbortSignal, tenant?: Tenant, lane?: BudgetLane): Promise<void> {
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
        lane,
      );
    });
  }

  /** Ends a granted request, freeing its slot; `tenant` as the turn was queued with. */
  release(tenant?: Tenant): void {
    this.#inFlight--;
    if (tenant !== undefined) this.#unseenInFlight--;
    this.#pump();
  }

  /**
   * No request of `lane` (default the fleet's own) starts before `until`: a 429, with its Retry-After or
   * not, speaks for the upstream whose budget that is. True when that extends the pause.
   */
  pauseUntil(until: number, lane?: BudgetLane): boolean {
    const of = this.#own(lane);
    if (until <= of.pausedUntil) return false;
    of.pausedUntil = until;
    this.#pump();
    return true;
  }

  /** Drops every queued turn and timer (the fleet is closing). */
  clear(): void {
    for (const lane of this.#lanes) lane.clear();
    this.#waiting = 0;
    this.#sleepUntil(Number.POSITIVE_INFINITY);
  }

  get #fleetLane(): Lane {
    return this.#lanes[0] as Lane;
  }

  #own(lane: BudgetLane | undefined): Lane {
    if (lane === undefined) return this.#fleetLane;
    if (!(lane instanceof Lane) || (lane.key === undefined ? lane !== this.#fleetLane : this.#laneByKey.get(lane.key) !== lane)) {
      throw new ConfigError("that budget lane belongs to another scheduler");
    }
    return lane;
  }

  #pump(): void {
    // A grant may start a request that fails synchronously and releases at once: no recursion.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#waiting === 0 || this.#inFlight >= this.#maxInFlight) {
          // Nothing waiting, or no slot: enqueue() or release() pumps again.
          this.#sleepUntil(Number.POSITIVE_INFINITY);
          return;
        }
        const now = this.#clock.now();
        const { next, wakeAt } = this.#choose(now);
        if (next === undefined) {
          // Infinity when only looks nobody vouched for wait, with their slice in flight: release() pumps again.
          this.#sleepUntil(wakeAt);
          return;
        }
        const { lane, queue, top, allowedAt } = next;
        (queue === undefined ? lane.heap : queue.heap).pop();
        const grant = top.grant as () => void;
        top.grant = undefined;
        this.#waiting--;
        this.#inFlight++;
        this.#started++;
        lane.started++;
        // Timers wake on whole milliseconds, after the (fractional) time the request was allowed: count
        // it from then, or the rounding adds up and a rate of 30/s (33.3 ms) runs at 29.4/s (34 ms).
        const startAt = now - allowedAt < 1 ? allowedAt : now;
        this.#rate.take(startAt);
        lane.rate.take(startAt);
        if (queue !== undefined) {
          this.#unseenInFlight++;
          this.#unseenRate.take(startAt);
          lane.unseenRate.take(startAt);
          lane.floorTat = Math.max(lane.floorTat, startAt) + lane.floorIntervalMs;
          queue.served++;
          if (--queue.waiting === 0) lane.tenants.delete(queue.tenant);
        }
        grant();
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * The turn to grant now: of every lane's next turns (its vouched ones, and its tenants' while their
   * slice of requests in flight is not full), the first in rank and urgency that the fleet's budget and
   * its lane's allow now. Else when the first of them will be allowed.
   */
  #choose(now: number): { readonly next: Candidate | undefined; readonly wakeAt: number } {
    let anySeen = false;
    for (const lane of this.#lanes) {
      lane.dropCancelled();
      if (lane.heap.size > 0) anySeen = true;
    }
    const unseenOpen = this.#unseenInFlight < this.#maxUnseenInFlight;
    let next: Candidate | undefined;
    let wakeAt = Number.POSITIVE_INFINITY;
    const consider = (candidate: Candidate): void => {
      if (now < candidate.allowedAt) wakeAt = Math.min(wakeAt, candidate.allowedAt);
      else if (next === undefined || goesFirst(candidate, next)) next = candidate;
    };
    for (const lane of this.#lanes) {
      const seenAt = Math.max(lane.pausedUntil, this.#rate.allowedAt, lane.rate.allowedAt);
      const seen = lane.heap.peek();
      if (seen !== undefined) consider({ lane, queue: undefined, top: seen, rank: Rank.SEEN, allowedAt: seenAt });
      const tenant = unseenOpen ? lane.nextTenant() : undefined;
      const top = tenant?.heap.peek();
      if (tenant === undefined || top === undefined) continue;
      // Rooms seen first, but rooms never seen are owed their floor: one goes ahead once it is due. The
      // floor's clock starts when they are first passed over, so they never jump the queue on arrival.
      if (anySeen && lane.floorTat < now - lane.floorIntervalMs) lane.floorTat = now + lane.floorIntervalMs;
      const rank = anySeen && now >= lane.floorTat ? Rank.FLOOR : Rank.UNSEEN;
      consider({ lane, queue: tenant, top, rank, allowedAt: Math.max(seenAt, this.#unseenRate.allowedAt, lane.unseenRate.allowedAt) });
    }
    return { next, wakeAt };
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
}

function before(a: Entry, b: Entry): boolean {
  if (a.urgency !== b.urgency) return a.urgency < b.urgency;
  if (a.dueAt !== b.dueAt) return a.dueAt < b.dueAt;
  return a.seq < b.seq;
}
