/**
 * Property tests of the room state machine: random inputs through the pure transition(), and random
 * scripts through a real RoomWatcher on a fake clock, keep the invariants the README promises (one
 * terminal event and nothing after it, no duplicate event for one state, only allowed edges, truthful
 * `moved`/`previous`, reschedule semantics), and a stopped watcher leaves no timer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Connection, type Observation, type PollResult, sameConnection } from "../../src/core/observation.js";
import { ALLOWED_TRANSITIONS, initialState, type RoomInput, type RoomState, type RoomTransitionEvent, transition } from "../../src/core/room-state.js";
import { HttpError, NetworkError } from "../../src/core/errors.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import type { ExposedPort } from "../../src/core/observation.js";
import { eventViolations, type RecordedEvent, recordEvents } from "../helpers/event-invariants.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { seededRandom } from "../helpers/prng.js";
import { ScriptedSource, type Step } from "../helpers/scripted-source.js";

// Few hosts and ports, so that the same connection comes up again often (the duplicate-event case).
const exposedPortArb: fc.Arbitrary<ExposedPort> = fc.record({
  host: fc.constantFrom("a.example", "b.example"),
  port: fc.integer({ min: 7000, max: 7002 }),
  transportType: fc.constantFrom("udp", "tcp"),
  name: fc.constant("default"),
});
const connectionArb: fc.Arbitrary<Connection> = fc.record({
  exposedPort: exposedPortArb,
  additionalExposedPorts: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(exposedPortArb, { minLength: 1, maxLength: 2 }) }),
});
const observationArb: fc.Arbitrary<Observation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "starting" } as const) },
  { weight: 4, arbitrary: connectionArb.map((connection) => ({ kind: "active", connection }) as const) },
  { weight: 2, arbitrary: fc.constant({ kind: "not_found" } as const) },
  { weight: 1, arbitrary: fc.constantFrom("destroyed", "suspended").map((reason) => ({ kind: "ended", reason }) as const) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map((status) => ({ kind: "unrecognized", status }) as const) },
);
/** An input without its time (readable in a counterexample); `at` is added as the sequence runs. */
type InputKind = { readonly type: "observed"; readonly observation: Observation } | { readonly type: "deadline" | "aborted" | "stopped" | "failed" };
const inputArb: fc.Arbitrary<InputKind> = fc.oneof(
  { weight: 24, arbitrary: observationArb.map((observation) => ({ type: "observed", observation }) as const) },
  { weight: 4, arbitrary: fc.constantFrom("deadline", "aborted", "stopped", "failed").map((type) => ({ type }) as const) },
);
function inputAt(input: InputKind, at: number): RoomInput {
  switch (input.type) {
    case "observed":
      return { type: "observed", at, observation: input.observation };
    case "aborted":
      return { type: "aborted", at, cause: new Error("caller went away") };
    case "failed":
      return { type: "failed", at, cause: new HttpError(401, undefined) };
    default:
      return { type: input.type, at };
  }
}
/** Inputs at strictly increasing times from 0, and the not-found grace they run under. */
const runArb = fc.record({
  graceMs: fc.integer({ min: 0, max: 10_000 }),
  steps: fc.array(fc.tuple(fc.integer({ min: 1, max: 3_000 }), inputArb), { maxLength: 40 }),
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function toRecorded(event: RoomTransitionEvent): RecordedEvent {
  return event;
}

/** What one input must do to a state, independently of how transition() is written. */
function stepViolations(from: RoomState, input: RoomInput, to: RoomState, events: readonly RoomTransitionEvent[]): string[] {
  const problems: string[] = [];
  const changed = to !== from;
  if (events.length > 1) problems.push(`${events.length} events from one input`);
  if (!changed && events.length > 0) problems.push("events without a change of state");
  if (changed && events.length === 0) problems.push("a change of state without an event");
  if (from.status === "terminated" && changed) problems.push("terminated is not final");
  const event = events[0];
  if (event !== undefined) {
    if (event.type !== to.status) problems.push(`a ${event.type} event into a ${to.status} state`);
    if (event.at !== input.at || to.since !== input.at) problems.push("the event or state is not stamped with the input's time");
    if (!ALLOWED_TRANSITIONS[from.status].includes(to.status)) problems.push(`${from.status} > ${to.status} is not allowed`);
  }
  if (from.status === "terminated") return problems;
  const expectTerminated = (reason: string, cause?: unknown): void => {
    if (to.status !== "terminated" || to.reason !== reason) problems.push(`${input.type} should end the room as ${reason}, got ${to.status}`);
    else if (cause !== undefined && to.cause !== cause) problems.push(`${reason} lost its cause`);
  };
  switch (input.type) {
    case "deadline":
      if (from.status === "active") {
        if (changed) problems.push("the deadline ended an active room");
      } else expectTerminated("timeout");
      break;
    case "aborted":
      expectTerminated("aborted", input.cause);
      break;
    case "stopped":
      expectTerminated("stopped");
      break;
    case "failed":
      expectTerminated("failed", input.cause);
      break;
    case "observed": {
      const o = input.observation;
      if (o.kind === "unrecognized" && changed) problems.push("an unrecognized status changed the state");
      if (o.kind === "ended") expectTerminated(o.reason);
      if (o.kind === "not_found") {
        if (from.status !== "unknown") expectTerminated("destroyed");
        else if (input.at < from.notFoundGraceUntil) {
          if (changed) problems.push("a 404 within the grace ended the room");
        } else expectTerminated("not_found");
      }
      if (o.kind === "starting" && (to.status !== "starting" || (from.status === "starting" && changed))) problems.push("starting mishandled");
      if (o.kind === "active") {
        const same = from.status === "active" && sameConnection(from.connection, o.connection);
        if (to.status !== "active" || (same && changed) || (!same && !changed)) problems.push("active mishandled");
      }
      break;
    }
    default: {
      const never: never = input;
      problems.push(`unexpected input ${JSON.stringify(never)}`);
    }
  }
  return problems;
}

const c1: Connection = { exposedPort: { host: "h", port: 1, transportType: "udp", name: "default" }, additionalExposedPorts: [] };
const c2: Connection = { exposedPort: { host: "h", port: 2, transportType: "udp", name: "default" }, additionalExposedPorts: [] };

describe("the invariant checker", () => {
  // It must catch what it claims to, or the properties below prove nothing.
  it.each<[string, RecordedEvent[], string]>([
    ["an event after terminated", [{ type: "terminated", at: 1, reason: "stopped", lastConnection: undefined }, { type: "starting", at: 2, previous: undefined }], "after terminated"],
    ["two starting in a row", [{ type: "starting", at: 1, previous: undefined }, { type: "starting", at: 2, previous: undefined }], "two starting"],
    ["two actives on one connection", [{ type: "active", at: 1, connection: c1, moved: false, previous: undefined }, { type: "active", at: 2, connection: c1, moved: true, previous: c1 }], "same connection"],
    ["a move not called one", [{ type: "active", at: 1, connection: c1, moved: false, previous: undefined }, { type: "active", at: 2, connection: c2, moved: false, previous: c1 }], "moved is false"],
    ["a wrong previous", [{ type: "active", at: 1, connection: c1, moved: false, previous: undefined }, { type: "starting", at: 2, previous: c2 }], "previous is"],
    ["a forbidden edge", [{ type: "starting", at: 1, previous: undefined }, { type: "starting", at: 2, previous: undefined }], "not an allowed transition"],
    ["time going backwards", [{ type: "starting", at: 5, previous: undefined }, { type: "terminated", at: 4, reason: "stopped", lastConnection: undefined }], "before the previous"],
    ["a wrong lastConnection", [{ type: "active", at: 1, connection: c1, moved: false, previous: undefined }, { type: "terminated", at: 2, reason: "stopped", lastConnection: undefined }], "lastConnection"],
  ])("rejects %s", (_name, events, expected) => {
    expect(eventViolations(events).join("\n")).toContain(expected);
  });

  it("rejects a change of status without its status event, when status events are expected", () => {
    expect(eventViolations([{ type: "starting", at: 1, previous: undefined }], { withStatus: true }).join("\n")).toContain("no status event");
    expect(
      eventViolations([{ type: "status", at: 1, from: "unknown", to: "starting" }, { type: "starting", at: 1, previous: undefined }], { withStatus: true }),
    ).toEqual([]);
  });
});

describe("transition() under random inputs", () => {
  it("keeps every invariant, step by step and over the whole sequence", () => {
    fc.assert(
      fc.property(runArb, ({ graceMs, steps }) => {
        let state = deepFreeze(initialState(0, graceMs));
        let at = 0;
        const emitted: RecordedEvent[] = [];
        for (const [gapMs, input] of steps) {
          at += gapMs;
          const next = deepFreeze(inputAt(input, at));
          const result = transition(state, next);
          // Pure: the same input gives the same output, and a frozen state is never written to.
          expect(transition(state, next)).toEqual(result);
          const problems = stepViolations(state, next, result.state, result.events);
          if (problems.length > 0) throw new Error(`${state.status} + ${JSON.stringify(input)} at ${at}: ${problems.join("; ")}`);
          emitted.push(...result.events.map(toRecorded));
          state = deepFreeze(result.state);
        }
        expect(eventViolations(emitted)).toEqual([]);
        expect(emitted.filter((e) => e.type === "terminated").length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });

  it("reschedule: active > starting > active says rescheduled, then moved, and names the connection before", () => {
    fc.assert(
      fc.property(connectionArb, connectionArb, fc.integer({ min: 0, max: 3 }), (first, second, repeats) => {
        let state = initialState(0, 0);
        const events: RoomTransitionEvent[] = [];
        const feed = (observation: Observation): void => {
          const result = transition(state, { type: "observed", at: events.length + 1, observation });
          state = result.state;
          events.push(...result.events);
        };
        feed({ kind: "active", connection: first });
        for (let i = 0; i <= repeats; i++) feed({ kind: "starting" });
        for (let i = 0; i <= repeats; i++) feed({ kind: "active", connection: second });
        expect(events.map((e) => e.type)).toEqual(["active", "starting", "active"]);
        expect(events[0]).toMatchObject({ moved: false, previous: undefined });
        expect(events[1]).toMatchObject({ previous: first });
        expect(events[2]).toMatchObject({ moved: true, previous: first, connection: second });
        expect(state).toMatchObject({ status: "active", moved: true, connection: second });
      }),
      { numRuns: 200 },
    );
  });

  it("an active on a different connection right after an active says moved; on the same one says nothing", () => {
    fc.assert(
      fc.property(connectionArb, connectionArb, (first, second) => {
        const one = transition(initialState(0, 0), { type: "observed", at: 1, observation: { kind: "active", connection: first } });
        const two = transition(one.state, { type: "observed", at: 2, observation: { kind: "active", connection: second } });
        if (sameConnection(first, second)) {
          expect(two.events).toEqual([]);
          expect(two.state).toBe(one.state);
        } else {
          expect(two.events).toEqual([{ type: "active", at: 2, connection: second, moved: true, previous: first }]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---- A real RoomWatcher on a fake clock ----

type ScriptStep =
  | { readonly kind: "starting" }
  | { readonly kind: "active"; readonly port: number }
  | { readonly kind: "not_found" }
  | { readonly kind: "ended"; readonly reason: "destroyed" | "suspended" }
  | { readonly kind: "unrecognized" }
  | { readonly kind: "network" }
  | { readonly kind: "http503" };

const scriptStepArb: fc.Arbitrary<ScriptStep> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "starting" } as const) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 3 }).map((port) => ({ kind: "active", port }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "not_found" } as const) },
  { weight: 1, arbitrary: fc.constantFrom("destroyed", "suspended").map((reason) => ({ kind: "ended", reason }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "unrecognized" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "network" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "http503" } as const) },
);

const portOf = (port: number): ExposedPort => ({ host: "10.0.0.1", port, transportType: "udp", name: "default" });

function toStep(step: ScriptStep): Step {
  const result = (observation: Observation, warnings: PollResult["warnings"] = []): PollResult => ({ observation, warnings });
  switch (step.kind) {
    case "starting":
    case "not_found":
      return result({ kind: step.kind });
    case "active":
      return result({ kind: "active", connection: { exposedPort: portOf(step.port), additionalExposedPorts: [] } });
    case "ended":
      return result({ kind: "ended", reason: step.reason });
    case "unrecognized":
      return result({ kind: "unrecognized", status: "warming" }, [{ code: "UNKNOWN_STATUS", value: "warming", message: "undocumented room status" }]);
    case "network":
      return new NetworkError("connection reset");
    case "http503":
      return new HttpError(503, "busy");
    default: {
      const never: never = step;
      throw new Error(`unexpected step ${JSON.stringify(never)}`);
    }
  }
}

const watcherRunArb = fc.record({
  script: fc.array(scriptStepArb, { minLength: 1, maxLength: 30 }),
  timeoutMs: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1_000, max: 60_000 })),
  notFoundGraceMs: fc.integer({ min: 0, max: 10_000 }),
  end: fc.constantFrom("stop", "abort"),
  endAtMs: fc.integer({ min: 0, max: 60_000 }),
  /** A second watcher of the same room joins this long after the first (or never). */
  joinAtMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
  seed: fc.integer(),
});

describe("RoomWatcher under random scripts (fake clock)", () => {
  it("emits a sound event sequence, ends as the script and the caller say, and leaves no timer", async () => {
    await fc.assert(
      fc.asyncProperty(watcherRunArb, async (run) => {
        const time = fakeClock();
        const source = new ScriptedSource(run.script.map(toStep), () => time.clock.now());
        const fleet = new Fleet({ clock: time.clock, random: seededRandom(run.seed) });
        const controller = new AbortController();
        const startedAt = time.clock.now();
        const first = new RoomWatcher({
          roomId: "room1",
          source,
          fleet,
          timeoutMs: run.timeoutMs,
          notFoundGraceMs: run.notFoundGraceMs,
          signal: controller.signal,
        });
        const firstEvents = recordEvents(first);
        const fleetEvents = recordEvents(fleet as never);
        first.start();

        let second: RoomWatcher | undefined;
        let secondEvents: RecordedEvent[] = [];
        const joinAt = run.joinAtMs !== undefined && run.joinAtMs < run.endAtMs ? run.joinAtMs : undefined;
        if (joinAt !== undefined) {
          await time.tick(joinAt);
          second = new RoomWatcher({ roomId: "room1", source, fleet, timeoutMs: Number.POSITIVE_INFINITY, notFoundGraceMs: run.notFoundGraceMs });
          secondEvents = recordEvents(second);
          second.start();
        }
        await time.tick(run.endAtMs - (joinAt ?? 0));
        const endedBefore = first.status === "terminated";
        if (run.end === "abort") controller.abort(new Error("caller went away"));
        await Promise.all([first.stop(), second?.stop()]);
        await fleet.close();

        expect(eventViolations(firstEvents, { withStatus: true })).toEqual([]);
        expect(eventViolations(secondEvents, { withStatus: true })).toEqual([]);
        // The fleet's view spans one feed; a second watcher that joins after the first ended starts another.
        if (joinAt === undefined) expect(eventViolations(fleetEvents, { withStatus: true })).toEqual([]);
        const terminated = firstEvents.filter((e) => e.type === "terminated");
        expect(terminated).toHaveLength(1);
        const end = terminated[0] as Extract<RecordedEvent, { type: "terminated" }>;
        if (!endedBefore) expect(end.reason).toBe(run.end === "abort" ? "aborted" : "stopped");
        else expect(["destroyed", "suspended", "not_found", "timeout"]).toContain(end.reason);
        if (end.reason === "timeout") {
          expect(end.at).toBe(startedAt + run.timeoutMs);
          expect(firstEvents.some((e) => e.type === "active")).toBe(false);
        }
        if (end.reason === "destroyed" || end.reason === "suspended") {
          expect(run.script.some((s) => s.kind === "not_found" || (s.kind === "ended" && s.reason === end.reason))).toBe(true);
        }
        // Nothing left: no poll loop, no heap entry, no clock timer, no request slot.
        expect(fleet.size).toBe(0);
        expect(fleet.timers.size).toBe(0);
        expect(time.timers()).toBe(0);
        expect(fleet.stats.inFlight).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
