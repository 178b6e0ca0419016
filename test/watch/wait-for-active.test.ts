/**
 * waitForActive in xstate's waitFor shape: an aborted signal is answered before anything is built,
 * and every exit (resolve, each rejection, abort) leaves no timer, no abort
 * listener and no feed behind. Fake clock throughout.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { RoomTerminatedError, WaitTimeoutError } from "../../src/core/errors.js";
import type { PushSource } from "../../src/core/source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { active, notFound, ScriptedSource, type Step, starting } from "../helpers/scripted-source.js";

let env: { readonly fleet: Fleet } | undefined;

function setup(steps: Step[]) {
  const time = fakeClock();
  const source = new ScriptedSource(steps, () => time.clock.now());
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
  const controller = new AbortController();
  env = { fleet };
  /** What a settled wait may leave: timers (the clock's, the fleet's heap), feeds, abort listeners. */
  const left = () => ({
    clockTimers: time.timers(),
    heapTimers: fleet.timers.size,
    feeds: fleet.size,
    abortListeners: getEventListeners(controller.signal, "abort").length,
  });
  const nothing = { clockTimers: 0, heapTimers: 0, feeds: 0, abortListeners: 0 };
  return { ...time, source, fleet, controller, left, nothing };
}

afterEach(async () => {
  await env?.fleet.close();
  env = undefined;
});

describe("waitForActive: an already-aborted signal", () => {
  it("rejects with signal.reason and builds nothing: no request, no timer, no listener on the signal, the source not even asked where it looks", async () => {
    const t = setup([active(1)]);
    let targetAsked = 0;
    const target = t.source.target.bind(t.source);
    t.source.target = (roomId) => {
      targetAsked++;
      return target(roomId);
    };
    const reason = new Error("cancelled before");
    t.controller.abort(reason);
    await expect(waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal })).rejects.toBe(reason);
    await t.tick(10_000);
    expect(t.source.calls).toEqual([]);
    expect(targetAsked).toBe(0);
    expect(t.left()).toEqual(t.nothing);
  });

  it("answers with the abort reason before reading the options, as xstate's waitFor and p-retry do", async () => {
    const t = setup([active(1)]);
    const reason = new Error("cancelled before");
    t.controller.abort(reason);
    await expect(waitForActive({ roomId: "../admin", source: t.source, fleet: t.fleet, signal: t.controller.signal })).rejects.toBe(reason);
    await expect(waitForActive({ roomId: "r", source: t.source, fleet: t.fleet, pollIntervalMs: -1, signal: t.controller.signal })).rejects.toBe(reason);
    expect(t.left()).toEqual(t.nothing);
  });
});

describe("waitForActive: every exit leaves nothing behind", () => {
  it("resolved: the room turned active", async () => {
    const t = setup([starting, active(7)]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal });
    expect(t.left()).toMatchObject({ abortListeners: 1, heapTimers: 1 });
    await t.tick(1_000);
    await expect(wait).resolves.toMatchObject({ roomId: "room1", exposedPort: { port: 7 } });
    expect(t.left()).toEqual(t.nothing);
  });

  it("rejected: the deadline passed (WaitTimeoutError)", async () => {
    const t = setup([starting]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal, timeoutMs: 5_000 });
    const settled = expect(wait).rejects.toBeInstanceOf(WaitTimeoutError);
    await t.tick(5_000);
    await settled;
    expect(t.left()).toEqual(t.nothing);
  });

  it("rejected: the room ended (RoomTerminatedError)", async () => {
    const t = setup([starting, notFound]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal });
    const settled = expect(wait).rejects.toMatchObject({ reason: "destroyed" });
    await t.tick(1_000);
    await settled;
    await expect(wait).rejects.toBeInstanceOf(RoomTerminatedError);
    expect(t.left()).toEqual(t.nothing);
  });

  it("rejected: aborted while waiting (signal.reason)", async () => {
    const t = setup([starting]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal });
    await t.tick(100);
    const reason = new Error("cancelled");
    t.controller.abort(reason);
    await expect(wait).rejects.toBe(reason);
    expect(t.left()).toEqual(t.nothing);
  });

  it("rejected: the fleet closed under it (RoomTerminatedError, reason stopped)", async () => {
    const t = setup([starting]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal });
    await t.tick(100);
    await t.fleet.close();
    await expect(wait).rejects.toMatchObject({ reason: "stopped" });
    expect(t.left()).toEqual(t.nothing);
  });

  it("rejected: a push source that throws as it subscribes (RoomTerminatedError, failed, with its error; neither the deadline nor the abort listener left)", async () => {
    const t = setup([starting]);
    const broken = new Error("cannot subscribe");
    const source: PushSource = {
      kind: "push",
      key: "broken-push",
      subscribe: () => {
        throw broken;
      },
    };
    const wait = waitForActive({ roomId: "room1", source, fleet: t.fleet, signal: t.controller.signal });
    await expect(wait).rejects.toBeInstanceOf(RoomTerminatedError);
    await expect(wait).rejects.toMatchObject({ reason: "failed", cause: broken });
    expect(t.left()).toEqual(t.nothing);
  });
});

describe("waitForActive: what a failing source threw", () => {
  it("a source that rejects with something that is not an Error ends the wait as failed with exactly that cause", async () => {
    const refusal: unknown = "upstream said no";
    const t = setup([() => Promise.reject(refusal)]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: t.controller.signal });
    const settled = expect(wait).rejects.toMatchObject({ reason: "failed", cause: "upstream said no" });
    await t.tick(0);
    await settled;
    expect(t.source.calls).toHaveLength(1);
    expect(t.left()).toEqual(t.nothing);
  });
});
