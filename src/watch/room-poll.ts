/**
 * The one poll loop of one room, shared by every watch of that room in a fleet. Between looks it
 * holds nothing but a timer-heap entry or a place in the fleet's request queue: no promise, no
 * AbortController, which is what lets one process watch 100,000 rooms. A look retries transient
 * failures itself (see #retrying): every wait is on the fleet's timer heap and every attempt takes
 * its turn in the fleet's request budget. It ends when its last listener leaves or on a terminal
 * error; it never rejects.
 */
import type { ActivationModel } from "../core/activation-model.js";
import { jittered, nextPollDelayMs, rateLimitDelayMs, retryDelayMs } from "../core/backoff.js";
import type { Clock } from "../core/clock.js";
import { type Observation, type PollResult, samePort } from "../core/observation.js";
import { type BudgetLane, type QueuedTurn, type RequestScheduler, type Tenant, Urgency } from "../core/request-scheduler.js";
import type { TimerHandle, TimerHeap } from "../core/timer-heap.js";
import type { RateLimitedError } from "../core/errors.js";
import { classifyFailure, type RetryVerdict } from "../core/retry-verdict.js";
import type { PollingSource, SourceListener, TransientFailure } from "../core/source.js";
import type { ResolvedPollOptions } from "./options.js";
import { FanOut } from "./room-feed.js";

/** What a poll loop needs from its fleet. */
export interface PollContext {
  readonly clock: Clock;
  readonly timers: TimerHeap;
  readonly scheduler: RequestScheduler;
  readonly random: () => number;
  /** The learned time-to-active of rooms on this source, when the fleet learns. */
  modelFor(source: PollingSource): ActivationModel | undefined;
  /** Which schedule a starting room's looks follow once the model is ready. */
  readonly schedule: LearnedSchedule;
  /** The room turned active (`became-active`), or moved or went back to starting (`moved`): its siblings may have too. */
  changed(poll: RoomPoll, change: "became-active" | "moved"): void;
  /** A 429 paused the looks of budget `budget` (undefined: the fleet's own) until `until`. */
  paused(poll: RoomPoll, budget: string | undefined, until: number, error: RateLimitedError): void;
}

const PLAN_DRAW_UNITS = 2 ** 30;

export type ScheduleStatus = "unknown" | "starting" | "active";

/** `optimal`: the looks that minimise mean detection delay within the budget; `legacy`: the square-root rule. See activation-model.ts. */
export type LearnedSchedule = "optimal" | "legacy";

function scheduleStatusOf(observation: Observation): ScheduleStatus {
  switch (observation.kind) {
    case "active":
      return "active";
    case "not_found":
      return "unknown";
    default:
      return "starting";
  }
}

export interface RoomPollPlacement {
  /** When the room was created (fleet clock ms); the learned schedule counts from here. Default: now. */
  readonly createdAt?: number | undefined;
  /** The process the room was placed on (the create response's processId). */
  readonly processId?: string | undefined;
  /**
   * Who asked for the room: until it is seen to exist (starting or active), its looks wait in this
   * tenant's place in the budget's slice for unvouched looks. Default none: its looks are vouched for.
   */
  readonly tenant?: Tenant | undefined;
}

/** The polling feed of one room. */
export class RoomPoll extends FanOut {
  readonly #source: PollingSource;
  readonly #options: ResolvedPollOptions;
  readonly #context: PollContext;
  /** The budget every look of this room waits in: its source's own, or the fleet's. */
  readonly #lane: BudgetLane;
  readonly #origin: number;
  /**
   * This room's draw for the optimal schedule's choice between the two plans around the budget, in
   * units of 2^-30: a small integer is stored in the object itself, a fraction would cost a heap
   * number per room (25 bytes a room at 100,000 rooms).
   */
  readonly #planDraw: number;
  #processId: string | undefined;
  /** Whose looks these are until the room is seen to exist; undefined from then on (or when nobody was named). */
  #tenant: Tenant | undefined;
  /** The tenant the slot held now was granted for. */
  #slotTenant: Tenant | undefined;
  #status: ScheduleStatus | undefined;
  #looksInState = 0;
  /** When the last look that found the room starting answered. */
  #lastStartingAt: number | undefined;
  #lastLookAt: number | undefined;
  /** When the last look brought forward by a prompt was granted. */
  #lastPromptedAt: number | undefined;
  /** The urgency of the turn queued (or just granted). */
  #turnUrgency: Urgency = Urgency.FIRST_LOOK;
  #invalidRun = 0;
  #requests = 0;
  #timer: TimerHandle | undefined;
  /** What the timer queues when it fires: the next routine look, or a prompt held back by the floor. */
  #timerUrgency: Urgency = Urgency.ROUTINE;
  #queued: QueuedTurn | undefined;
  #inFlight: AbortController | undefined;
  /** A request slot granted and not yet used by an attempt. */
  #holdsSlot = false;

  constructor(context: PollContext, source: PollingSource, roomId: string, options: ResolvedPollOptions, placement: RoomPollPlacement = {}, observer?: SourceListener) {
    super(source, roomId, observer);
    this.#context = context;
    this.#source = source;
    this.#options = options;
    this.#lane = context.scheduler.lane(source.budget);
    this.#origin = placement.createdAt ?? context.clock.now();
    this.#planDraw = Math.floor(context.random() * PLAN_DRAW_UNITS);
    this.#processId = placement.processId;
    this.#tenant = placement.tenant;
    // On the next microtask, so the first listener is attached before the first look.
    queueMicrotask(() => this.#queue(Urgency.FIRST_LOOK));
  }

  /** Requests this loop has sent. */
  get requests(): number {
    return this.#requests;
  }

  /** What the last look found (undefined before the first answer). */
  get status(): ScheduleStatus | undefined {
    return this.#status;
  }

  /** The process the room is known to be on (cleared once it moves). */
  get processId(): string | undefined {
    return this.#processId;
  }

  /** Learns the room's process from a later caller. */
  place(processId: string | undefined): void {
    this.#processId ??= processId;
  }

  /**
   * Looks again soon, ahead of the schedule (a sibling changed, or a hint), unless a look is under
   * way or already prompted. Never sooner than the floor after the last look, nor than `minGapMs`
   * after the last prompted look: a prompt within either looks once it has passed. True when this
   * brought a look forward; false when one was due as soon anyway.
   */
  prompt(minGapMs = 0): boolean {
    if (this.stopped || this.#inFlight !== undefined) return false;
    if (this.#queued !== undefined && this.#queued.urgency <= Urgency.PROMPTED) return false;
    const { clock, timers } = this.#context;
    const afterLook = this.#lastLookAt === undefined ? Number.NEGATIVE_INFINITY : this.#lastLookAt + this.#options.minPollIntervalMs;
    const afterPrompt = this.#lastPromptedAt === undefined ? Number.NEGATIVE_INFINITY : this.#lastPromptedAt + minGapMs;
    const earliest = Math.max(afterLook, afterPrompt);
    if (earliest > clock.now()) {
      // Already due by then (on schedule, or a prompt held back before): nothing to bring forward.
      if (this.#timer !== undefined && this.#timer.dueAt <= earliest) return false;
      this.#cancelWait();
      this.#timerUrgency = Urgency.PROMPTED;
      this.#timer = timers.at(earliest, this.#due);
      return true;
    }
    this.#cancelWait();
    this.#queue(Urgency.PROMPTED);
    return true;
  }

  protected onStop(): void {
    this.#cancelWait();
    // Let go (or ended) while starting: all that is known is that it takes longer than the last look.
    if (this.#status === "starting" && this.#lastStartingAt !== undefined) {
      this.#context.modelFor(this.#source)?.recordCensored(this.#lastStartingAt - this.#origin);
    }
    // A look under way releases its own slot when the abort reaches it.
    if (this.#inFlight === undefined) this.ended();
    else this.#inFlight.abort(new Error("room poll stopped"));
  }

  #cancelWait(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#queued !== undefined) this.#context.scheduler.cancel(this.#queued);
    this.#queued = undefined;
  }

  #queue(urgency: Urgency): void {
    if (this.stopped || this.#inFlight !== undefined) return;
    // One turn at a time: a prompt that came before the first look must not queue a second one.
    if (this.#queued !== undefined) {
      if (this.#queued.urgency <= urgency) return;
      this.#context.scheduler.cancel(this.#queued);
      this.#queued = undefined;
    }
    this.#turnUrgency = urgency;
    const turn = this.#context.scheduler.enqueue(urgency, this.#context.clock.now(), this.#granted, this.#tenant, this.#lane);
    // When the budget allows at once, the grant runs inside enqueue and the look is under way: that
    // turn is spent, and keeping it would make prompt() take it for a look still queued.
    if (this.#inFlight === undefined) this.#queued = turn;
  }

  readonly #due = (): void => {
    this.#timer = undefined;
    this.#queue(this.#timerUrgency);
  };

  // The tenant cannot change while a turn is queued: only an answer changes it, and none is awaited then.
  readonly #granted = (): void => {
    this.#queued = undefined;
    this.#holdsSlot = true;
    this.#slotTenant = this.#tenant;
    if (this.#turnUrgency === Urgency.PROMPTED) this.#lastPromptedAt = this.#context.clock.now();
    if (this.stopped) {
      this.#releaseSlot();
      return;
    }
    void this.#look();
  };

  #releaseSlot(): void {
    this.#holdsSlot = false;
    this.#context.scheduler.release(this.#slotTenant);
  }

  async #look(): Promise<void> {
    const controller = new AbortController();
    const signal = controller.signal;
    this.#inFlight = controller;
    try {
      const result = await this.#retrying(signal);
      this.#inFlight = undefined;
      this.#observed(result);
    } catch (error) {
      this.#inFlight = undefined;
      if (this.#holdsSlot) this.#releaseSlot();
      if (!signal.aborted) this.deliverFatal(error, this.#context.clock.now());
    }
    if (this.stopped) this.ended();
  }

  /**
   * Attempts until one answers; throws what the last one failed with when it cannot be retried, or
   * `signal.reason` once stopped.
   *
   * Not p-retry, though it was here first. p-retry 7 waits with the global setTimeout for a delay it
   * computes itself (minTimeout * factor ** n, randomized with Math.random), measures maxRetryTime
   * with performance.now(), and has no seam for a clock, a random source or a per-error delay. Our
   * waits must be on the fleet's timer heap (the injected clock drives it, fake-clock tests reach it,
   * and 100,000 rooms share one timer), their jitter from the fleet's random, a 429's from its
   * Retry-After and paused for its whole budget, and each attempt must first get a slot from the fleet's
   * request budget. Used here, p-retry could only run with a zero delay while the real waiting and
   * acquiring hid in its shouldRetry predicate: a dependency in name only.
   */
  async #retrying(signal: AbortSignal): Promise<PollResult> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        const result = await this.#attempt(signal);
        // Stopped while the answer was on its way: it is nobody's now.
        signal.throwIfAborted();
        return result;
      } catch (error) {
        if (signal.aborted) throw error;
        const verdict = classifyFailure(error, this.#invalidRun, this.#options.maxConsecutiveInvalidPayloads);
        this.#invalidRun = verdict.invalidRun;
        if (verdict.kind === "give_up") throw error;
        await this.#waitToRetry(verdict, attempt, signal);
      }
    }
  }

  /** Reports a transient failure, waits out its backoff (a 429: the pause of its budget), then gets the next attempt's slot. */
  async #waitToRetry(verdict: Exclude<RetryVerdict, { kind: "give_up" }>, attempt: number, signal: AbortSignal): Promise<void> {
    const { random, clock, timers, scheduler } = this.#context;
    const { error } = verdict;
    const rateLimited = verdict.kind === "rate_limited";
    const nextDelayMs = rateLimited ? rateLimitDelayMs(verdict.error.retryAfterMs, attempt, this.#options, random) : retryDelayMs(attempt, this.#options, random);
    const at = clock.now();
    // A 429 speaks for the whole upstream, so every room within the same budget waits, not just this one.
    // It says nothing of the others: a source with a budget of its own (Edgegap's organisation) pauses
    // only its own looks, and the fleet's other sources (Hathora's, on another host) go on with their
    // share, which is what lets them use the rate the paused one cannot. Sources that declare no budget
    // cannot be told apart, so they pause together. The pause itself holds this retry, queued ahead of
    // routine looks for when it ends.
    if (rateLimited && scheduler.pauseUntil(at + nextDelayMs, this.#lane)) this.#context.paused(this, this.#lane.key, at + nextDelayMs, verdict.error);
    const failure: TransientFailure = Object.freeze({ error, attempt, nextDelayMs, at });
    this.deliverFailure(failure);
    if (!rateLimited) await timers.sleep(nextDelayMs, signal);
    const tenant = this.#tenant;
    await scheduler.acquire(Urgency.RETRY, signal, tenant, this.#lane);
    this.#holdsSlot = true;
    this.#slotTenant = tenant;
  }

  async #attempt(signal: AbortSignal): Promise<PollResult> {
    // Every attempt starts holding a slot: granted by the queue, or acquired by #waitToRetry.
    if (!this.#holdsSlot) throw signal.reason;
    this.#holdsSlot = false;
    try {
      this.#requests++;
      return await this.#source.poll(this.roomId, { signal });
    } finally {
      this.#context.scheduler.release(this.#slotTenant);
    }
  }

  #observed(result: PollResult): void {
    const at = this.#context.clock.now();
    this.#invalidRun = 0;
    this.#lastLookAt = at;
    const previous = this.#status;
    const previousResult = this.last;
    const next = scheduleStatusOf(result.observation);
    // Looks in a row that found it starting: one means the sketch sees nothing of it below its interval.
    const startingLooks = previous === "starting" ? this.#looksInState : 0;
    this.#looksInState = next === previous ? this.#looksInState + 1 : 1;
    this.#status = next;
    // Seen to exist: its looks are vouched for from now on, whoever asked.
    if (next !== "unknown") this.#tenant = undefined;
    if (next === "active" && previous === "starting" && this.#lastStartingAt !== undefined) {
      this.#context.modelFor(this.#source)?.record(this.#lastStartingAt - this.#origin, at - this.#origin, startingLooks === 1);
    }
    if (next === "starting") this.#lastStartingAt = at;
    const moved =
      previous === "active" &&
      (next === "starting" ||
        (result.observation.kind === "active" &&
          previousResult?.observation.kind === "active" &&
          !samePort(previousResult.observation.connection.exposedPort, result.observation.connection.exposedPort)));
    this.deliver(result, at);
    if (this.stopped) return;
    if (moved) this.#context.changed(this, "moved");
    else if (next === "active" && previous !== "active") this.#context.changed(this, "became-active");
    // A room that moved is on a new process, which its create response did not name.
    if (moved) this.#processId = undefined;
    this.#timerUrgency = Urgency.ROUTINE;
    this.#timer = this.#context.timers.after(this.#nextDelayMs(at), this.#due);
  }

  #nextDelayMs(at: number): number {
    const status = this.#status ?? "unknown";
    const { random } = this.#context;
    const options = this.#options;
    if (status === "starting") {
      const model = this.#context.modelFor(this.#source);
      if (model?.ready === true && this.#context.schedule === "optimal") {
        // Not jittered: each room counts from its own origin, so rooms made apart look apart, and
        // jitter would only move a look off its optimum.
        return model.optimalDelayMs(at - this.#origin, options, this.#planDraw / PLAN_DRAW_UNITS, at);
      }
      if (model?.ready === true && options.delayPerLookMs > 0) {
        const learned = model.nextDelayMs(at - this.#origin, options);
        return Math.max(options.minPollIntervalMs, jittered(learned, options.jitter, random, options.maxPollIntervalMs));
      }
    }
    return Math.max(options.minPollIntervalMs, nextPollDelayMs(status, this.#looksInState, options, random));
  }
}
