/**
 * Property tests of the watcher under random fault schedules: a scripted source whose every answer
 * is drawn (starting, active on some port, 404, 500, 429 with or without Retry-After, a network
 * error, an invalid payload, a terminal 401) drives a RoomWatcher on a fake clock. Whatever the
 * schedule, the watcher ends where a plain reading of the answers it got says it must, reports each
 * transient failure once, never rejects unhandled, and leaves no timer.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PollResult } from "../../src/core/observation.js";
import { HttpError, NetworkError, RateLimitedError, RoomTerminatedError, RoomWatcherError } from "../../src/core/errors.js";
import { Fleet } from "../../src/watch/fleet.js";
import { DEFAULT_POLL_OPTIONS } from "../../src/watch/options.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { parseConnectionInfoV2 } from "../../src/providers/hathora/parse.js";
import { eventViolations, recordEvents } from "../helpers/event-invariants.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { seededRandom } from "../helpers/prng.js";
import { active, notFound, ScriptedSource, type Step, starting } from "../helpers/scripted-source.js";

type Answer =
  | { readonly kind: "starting" }
  | { readonly kind: "active"; readonly port: number }
  | { readonly kind: "404" }
  | { readonly kind: "500" }
  | { readonly kind: "429"; readonly retryAfterMs: number | undefined }
  | { readonly kind: "network" }
  | { readonly kind: "invalid" }
  | { readonly kind: "401" };

const transientArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "500" } as const) },
  { weight: 1, arbitrary: fc.option(fc.integer({ min: 0, max: 90_000 }), { nil: undefined }).map((retryAfterMs) => ({ kind: "429", retryAfterMs }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "network" } as const) },
  // Invalid payloads count in runs: make runs (and runs broken by other failures) common.
  { weight: 2, arbitrary: fc.constant({ kind: "invalid" } as const) },
);
const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "starting" } as const) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }).map((port) => ({ kind: "active", port }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "404" } as const) },
  { weight: 4, arbitrary: transientArb },
  { weight: 1, arbitrary: fc.constant({ kind: "401" } as const) },
);
/** An answer that, given forever, settles the room (the last step of a script repeats). */
const tailArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }).map((port) => ({ kind: "active", port }) as const) },
  { weight: 1, arbitrary: answerArb },
);

const scheduleArb = fc.record({
  /** Single answers and bursts of failures (an outage: 5xx, 429s, resets and garbage in a row). */
  prefix: fc
    .array(fc.oneof(answerArb.map((a) => [a]), fc.array(transientArb, { minLength: 2, maxLength: 6 })), { maxLength: 8 })
    .map((chunks) => chunks.flat().slice(0, 20)),
  tail: tailArb,
  /** 0: a 404 on the first look already means not_found; huge: a never-seen room is "not there yet" for the whole run. */
  graceMs: fc.constantFrom(0, 1_000_000_000),
  seed: fc.integer(),
});
type Schedule = typeof scheduleArb extends fc.Arbitrary<infer T> ? T : never;

/** The same garbage body each time: a status of "active" without a port breaks the documented shape. */
const invalidPayload = (): Promise<PollResult> => Promise.resolve(parseConnectionInfoV2({ status: "active", roomId: "room1", additionalExposedPorts: [] }));

function toStep(answer: Answer): Step {
  switch (answer.kind) {
    case "starting":
      return starting;
    case "active":
      return active(answer.port);
    case "404":
      return notFound;
    case "500":
      return new HttpError(500, "internal");
    case "429":
      return new RateLimitedError(answer.retryAfterMs, "slow down");
    case "network":
      return new NetworkError("connection reset");
    case "invalid":
      return invalidPayload;
    case "401":
      return new HttpError(401, "unauthorized");
    default: {
      const never: never = answer;
      throw new Error(`unexpected answer ${JSON.stringify(never)}`);
    }
  }
}

type Verdict =
  | { readonly status: "unknown" | "starting" }
  | { readonly status: "active"; readonly port: number }
  | { readonly status: "terminated"; readonly reason: "destroyed" | "not_found" | "failed" };

/**
 * What the answers a watcher got say about the room, read plainly: the last word on its status,
 * a 404 as the end once the room was seen (or past the grace), 401 or three invalid payloads in a
 * row as failure; other errors change nothing. Also counts the failures that must be reported.
 */
function expectedFrom(answers: readonly Answer[], graceMs: number): { verdict: Verdict; transientReports: number; firstActive: number | undefined } {
  let verdict: Verdict = { status: "unknown" };
  let invalidRun = 0;
  let transientReports = 0;
  let firstActive: number | undefined;
  for (const answer of answers) {
    if (verdict.status === "terminated") break;
    switch (answer.kind) {
      case "starting":
        invalidRun = 0;
        verdict = { status: "starting" };
        break;
      case "active":
        invalidRun = 0;
        verdict = { status: "active", port: answer.port };
        firstActive ??= answer.port;
        break;
      case "404":
        invalidRun = 0;
        if (verdict.status !== "unknown") verdict = { status: "terminated", reason: "destroyed" };
        else if (graceMs === 0) verdict = { status: "terminated", reason: "not_found" };
        break;
      case "invalid":
        invalidRun++;
        if (invalidRun >= DEFAULT_POLL_OPTIONS.maxConsecutiveInvalidPayloads) verdict = { status: "terminated", reason: "failed" };
        else transientReports++;
        break;
      case "500":
      case "429":
      case "network":
        invalidRun = 0;
        transientReports++;
        break;
      case "401":
        verdict = { status: "terminated", reason: "failed" };
        break;
      default: {
        const never: never = answer;
        throw new Error(`unexpected answer ${JSON.stringify(never)}`);
      }
    }
  }
  return { verdict, transientReports, firstActive };
}

const answersGot = (schedule: Schedule, calls: number): Answer[] =>
  Array.from({ length: calls }, (_v, i) => schedule.prefix[i] ?? schedule.tail);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

function setup(schedule: Schedule) {
  const time = fakeClock();
  const source = new ScriptedSource([...schedule.prefix, schedule.tail].map(toStep), () => time.clock.now());
  const fleet = new Fleet({ clock: time.clock, random: seededRandom(schedule.seed) });
  /** Runs timers one by one until the tail has been answered a few times or `done()` says so. */
  const runUntilSettled = async (done: () => boolean): Promise<void> => {
    const enough = schedule.prefix.length + 4;
    for (let i = 0; i < 10_000; i++) {
      // Lets queued looks start and answers (resolved promises) reach the watcher.
      await time.tick(0);
      if (done() || source.calls.length >= enough || time.timers() === 0) return;
      await time.fake.nextAsync();
    }
    throw new Error("the schedule did not settle in 10,000 timers");
  };
  const leftovers = () => ({ feeds: fleet.size, heap: fleet.timers.size, clockTimers: time.timers(), inFlight: fleet.stats.inFlight });
  return { time, source, fleet, runUntilSettled, leftovers };
}

const NOTHING_LEFT = { feeds: 0, heap: 0, clockTimers: 0, inFlight: 0 };

describe("RoomWatcher under random fault schedules", () => {
  it("ends in the state the answers it got allow, reports every transient failure, and leaves nothing", async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        const t = setup(schedule);
        const watcher = new RoomWatcher({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs: Number.POSITIVE_INFINITY, notFoundGraceMs: schedule.graceMs });
        const events = recordEvents(watcher);
        const errors: Array<{ error: unknown; attempt: number; nextDelayMs: number }> = [];
        watcher.on("error", (e) => errors.push(e));
        watcher.start();
        await t.runUntilSettled(() => watcher.status === "terminated");

        const got = answersGot(schedule, t.source.calls.length);
        const { verdict, transientReports } = expectedFrom(got, schedule.graceMs);
        // Either it settled, or it ran through the whole schedule and answered the tail a few times.
        expect(verdict.status === "terminated" || t.source.calls.length >= schedule.prefix.length + 4).toBe(true);
        expect(watcher.status).toBe(verdict.status);
        if (verdict.status === "active") expect(watcher.connection?.exposedPort.port).toBe(verdict.port);
        if (verdict.status === "terminated") {
          expect(watcher.state).toMatchObject({ reason: verdict.reason });
          if (verdict.reason === "failed") expect((watcher.state as { cause: unknown }).cause).toBeInstanceOf(RoomWatcherError);
        }
        // A settled tail keeps settling: the whole schedule and what the watcher saw agree.
        const whole = expectedFrom([...schedule.prefix, schedule.tail, schedule.tail, schedule.tail, schedule.tail], schedule.graceMs);
        expect(verdict).toEqual(whole.verdict);

        expect(errors).toHaveLength(transientReports);
        for (const e of errors) {
          expect(e.error).toBeInstanceOf(RoomWatcherError);
          expect((e.error as RoomWatcherError).retryable).toBe(true);
          expect(e.nextDelayMs).toBeGreaterThanOrEqual(0);
          expect(e.nextDelayMs).toBeLessThanOrEqual(Math.max(DEFAULT_POLL_OPTIONS.maxRetryDelayMs, DEFAULT_POLL_OPTIONS.maxRetryAfterMs));
        }

        await watcher.stop();
        await t.fleet.close();
        expect(eventViolations(events, { withStatus: true })).toEqual([]);
        expect(events.filter((e) => e.type === "terminated")).toHaveLength(1);
        expect(t.leftovers()).toEqual(NOTHING_LEFT);
      }),
      { numRuns: 120 },
    );
  });

  it("with a deadline: the verdict of the answers, or a timeout exactly at the deadline before any active", async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, fc.integer({ min: 100, max: 120_000 }), async (schedule, timeoutMs) => {
        const t = setup(schedule);
        const startedAt = t.time.clock.now();
        const watcher = new RoomWatcher({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs, notFoundGraceMs: schedule.graceMs });
        const events = recordEvents(watcher);
        watcher.start();
        await t.runUntilSettled(() => watcher.status === "terminated");
        const state = watcher.state;
        if (state.status === "terminated" && state.reason === "timeout") {
          expect(state.since).toBe(startedAt + timeoutMs);
          expect(events.some((e) => e.type === "active")).toBe(false);
        } else {
          const { verdict } = expectedFrom(answersGot(schedule, t.source.calls.length), schedule.graceMs);
          expect(watcher.status).toBe(verdict.status);
          if (verdict.status === "terminated") expect(state).toMatchObject({ reason: verdict.reason });
        }
        await watcher.stop();
        await t.fleet.close();
        expect(eventViolations(events, { withStatus: true })).toEqual([]);
        expect(t.leftovers()).toEqual(NOTHING_LEFT);
      }),
      { numRuns: 80 },
    );
  });

  it("waitForActive resolves the first active port, or rejects with the reason the answers give", async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        const t = setup(schedule);
        let settled: { ok: true; port: number } | { ok: false; error: unknown } | undefined;
        waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs: Number.POSITIVE_INFINITY, notFoundGraceMs: schedule.graceMs }).then(
          (connection) => {
            settled = { ok: true, port: connection.exposedPort.port };
          },
          (error: unknown) => {
            settled = { ok: false, error };
          },
        );
        await t.runUntilSettled(() => settled !== undefined);
        const { verdict, firstActive } = expectedFrom(answersGot(schedule, t.source.calls.length), schedule.graceMs);
        if (firstActive !== undefined) expect(settled).toEqual({ ok: true, port: firstActive });
        else if (verdict.status === "terminated") {
          expect(settled?.ok).toBe(false);
          const error = (settled as { error: unknown }).error;
          expect(error).toBeInstanceOf(RoomTerminatedError);
          expect((error as RoomTerminatedError).reason).toBe(verdict.reason);
        } else {
          // Still waiting (the tail never settles it): closing the fleet rejects the wait as stopped.
          expect(settled).toBeUndefined();
        }
        await t.fleet.close();
        await t.time.tick(0);
        if (settled === undefined || !settled.ok) expect(settled).toMatchObject({ ok: false, error: expect.any(RoomTerminatedError) });
        expect(t.leftovers()).toEqual(NOTHING_LEFT);
      }),
      { numRuns: 80 },
    );
  });
});
