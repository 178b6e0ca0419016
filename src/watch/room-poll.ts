/**
 * The one poll loop of one room, shared by every watch of that room in a fleet. It looks, tells
 * its listeners, and sleeps on the fleet's timer heap; failures go through p-retry, whose waits
 * are ours (clock-driven, jittered, Retry-After aware) because they happen inside `shouldRetry`.
 * It ends when its last listener leaves or on a terminal error; it never rejects.
 */
import pRetry from "p-retry";
import { nextPollDelayMs, rateLimitDelayMs, retryDelayMs } from "../core/backoff.js";
import type { Clock } from "../core/clock.js";
import type { Observation, PollResult } from "../core/observation.js";
import type { RequestBudget } from "../core/request-budget.js";
import type { TimerHeap } from "../core/timer-heap.js";
import { InvalidPayloadError, RateLimitedError, RoomWatcherError } from "../errors.js";
import type { PollingSource, SourceListener, TransientFailure } from "../sources/source.js";
import type { ResolvedPollOptions } from "./options.js";
import type { RoomFeed } from "./room-feed.js";

export interface PollContext {
  readonly clock: Clock;
  readonly timers: TimerHeap;
  readonly budget: RequestBudget;
  readonly random: () => number;
}

type ScheduleStatus = "unknown" | "starting" | "active";

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

/** The polling feed of one room. */
export class RoomPoll implements RoomFeed {
  readonly roomId: string;
  readonly #source: PollingSource;
  readonly #options: ResolvedPollOptions;
  readonly #context: PollContext;
  readonly #listeners = new Set<SourceListener>();
  readonly #controller = new AbortController();
  #last: { readonly result: PollResult; readonly at: number } | undefined;
  #invalidRun = 0;
  #requests = 0;
  readonly done: Promise<void>;

  constructor(context: PollContext, source: PollingSource, roomId: string, options: ResolvedPollOptions) {
    this.#context = context;
    this.#source = source;
    this.roomId = roomId;
    this.#options = options;
    // Start on the next microtask so the first listener is attached before the first look.
    this.done = Promise.resolve().then(() => this.#run());
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Requests this loop has sent. */
  get requests(): number {
    return this.#requests;
  }

  get stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Adds a listener; it hears the latest result at once, so a late watcher starts where the room is. */
  add(listener: SourceListener): void {
    this.#listeners.add(listener);
    if (this.#last !== undefined) listener.onResult(this.#last.result, this.#last.at);
  }

  /** Removes a listener; the last one out stops the loop. */
  remove(listener: SourceListener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.stop();
  }

  stop(): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error("room poll stopped"));
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    let status: ScheduleStatus | undefined;
    let looksInState = 0;
    try {
      for (;;) {
        if (signal.aborted) return;
        const result = await pRetry(() => this.#lookOnce(signal), {
          retries: Number.POSITIVE_INFINITY,
          // p-retry's own wait would use the global clock and Math.random; ours happens in shouldRetry.
          minTimeout: 0,
          signal,
          shouldRetry: ({ error, attemptNumber }) => this.#shouldRetry(error, attemptNumber, signal),
        });
        this.#invalidRun = 0;
        const at = this.#context.clock.now();
        this.#last = { result, at };
        for (const listener of [...this.#listeners]) listener.onResult(result, at);
        if (signal.aborted) return;
        const next = scheduleStatusOf(result.observation);
        looksInState = next === status ? looksInState + 1 : 1;
        status = next;
        const delayMs = nextPollDelayMs(status, looksInState, this.#options, this.#context.random);
        await this.#context.timers.sleep(delayMs, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      const at = this.#context.clock.now();
      this.stop();
      for (const listener of [...this.#listeners]) listener.onFatal(error, at);
    }
  }

  #lookOnce(signal: AbortSignal): Promise<PollResult> {
    return this.#context.budget.run(() => {
      this.#requests++;
      return this.#source.poll(this.roomId, { signal });
    }, signal);
  }

  async #shouldRetry(error: unknown, attempt: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (!(error instanceof RoomWatcherError) || !error.retryable) return false;
    this.#invalidRun = error instanceof InvalidPayloadError ? this.#invalidRun + 1 : 0;
    if (this.#invalidRun >= this.#options.maxConsecutiveInvalidPayloads) return false;
    const { random, clock, timers } = this.#context;
    const nextDelayMs =
      error instanceof RateLimitedError
        ? rateLimitDelayMs(error.retryAfterMs, attempt, this.#options, random)
        : retryDelayMs(attempt, this.#options, random);
    const failure: TransientFailure = Object.freeze({ error, attempt, nextDelayMs, at: clock.now() });
    for (const listener of [...this.#listeners]) listener.onTransientFailure(failure);
    await timers.sleep(nextDelayMs, signal);
    return true;
  }
}
