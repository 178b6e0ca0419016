/** The one room view behind a RoomWatcher, a Fleet's view of a room and the gateway room hub's. */
import { EventEmitter } from "eventemitter3";
import { describe, expect, it } from "vitest";
import { NetworkError } from "../../src/core/errors.js";
import { EvidenceLog } from "../../src/core/evidence.js";
import { initialState, type RoomState } from "../../src/core/room-state.js";
import type { RoomWatcherEvents, TerminatedEvent } from "../../src/watch/events.js";
import { RoomView } from "../../src/watch/room-view.js";
import { active, notFound, starting } from "../helpers/scripted-source.js";

const T0 = 1_000;
const target = { name: "the scripted API", url: "scripted://rooms/r1" };

function emittingView(committed?: (state: RoomState) => void) {
  const emitter = new EventEmitter<RoomWatcherEvents>();
  const seen: string[] = [];
  for (const name of ["starting", "active", "terminated", "error", "status", "warning"] as const) {
    emitter.on(name, (event: object) => seen.push(`${name}${name === "status" ? `(${(event as { to: string }).to})` : ""}`));
  }
  const view = new RoomView({ roomId: "r1", state: initialState(T0, 5_000), emitter, evidence: new EvidenceLog(target), committed });
  return { emitter, view, seen };
}

describe("RoomView", () => {
  it("turns what a source reports into the state and the events a watcher emits", () => {
    const { view, seen } = emittingView();
    view.onResult(starting, T0 + 1);
    view.onResult(starting, T0 + 2);
    view.onResult(active(7), T0 + 3);
    view.onResult(notFound, T0 + 4);
    expect(seen).toEqual(["status(starting)", "starting", "status(active)", "active", "status(terminated)", "terminated"]);
    expect(view.state).toMatchObject({ status: "terminated", reason: "destroyed" });
  });

  it("commits the state, then runs the committed hook, then emits", () => {
    const order: string[] = [];
    const { emitter, view } = emittingView((state) => order.push(`committed ${state.status}, view ${view.state.status}`));
    emitter.on("status", (event) => order.push(`status ${event.to}, view ${view.state.status}`));
    view.onResult(active(7), T0 + 1);
    expect(order).toEqual(["committed active, view active", "status active, view active"]);
  });

  it("reports transient failures while live, counts them in the evidence, and ignores them once ended", () => {
    const { emitter, view, seen } = emittingView();
    let ended: TerminatedEvent | undefined;
    emitter.on("terminated", (event) => (ended = event));
    const failure = { error: new NetworkError("refused"), attempt: 1, nextDelayMs: 500, at: T0 + 1 };
    view.onTransientFailure(failure);
    view.onClosed(T0 + 2);
    view.onTransientFailure({ ...failure, attempt: 2, at: T0 + 3 });
    expect(seen).toEqual(["error", "status(terminated)", "terminated"]);
    expect(ended?.reason).toBe("stopped");
    expect(ended?.evidence).toMatchObject({ target, answeredLooks: 0, failedLooks: 1 });
  });

  it("ends as failed on a fatal error, with the error in the evidence", () => {
    const { emitter, view } = emittingView();
    let ended: TerminatedEvent | undefined;
    emitter.on("terminated", (event) => (ended = event));
    const error = new Error("forbidden");
    view.onFatal(error, T0 + 1);
    expect(ended).toMatchObject({ reason: "failed", cause: error, evidence: { failedLooks: 1, lastError: error } });
  });

  it("a throwing listener does not keep the next events from being emitted, nor the state from being committed", () => {
    const { emitter, view, seen } = emittingView();
    emitter.on("status", () => {
      throw new Error("listener bug");
    });
    view.onResult(active(7), T0 + 1);
    expect(view.state.status).toBe("active");
    expect(seen).toEqual(["status(active)", "active"]);
  });

  it("without an emitter (the gateway hub's view) keeps the state and emits nothing; reset replaces the state silently", () => {
    const view = new RoomView({ roomId: "r1", state: initialState(T0, 5_000) });
    view.onResult({ ...starting, warnings: [{ code: "UNKNOWN_STATUS", message: "m", value: "v" }] }, T0 + 1);
    expect(view.state.status).toBe("starting");
    view.reset(initialState(T0 + 2, 5_000));
    expect(view.state).toEqual({ status: "unknown", since: T0 + 2, notFoundGraceUntil: T0 + 5_002 });
    view.onFatal(new Error("x"), T0 + 3);
    expect(view.state).toMatchObject({ status: "terminated", reason: "failed" });
  });
});
