/**
 * withFallback: a push source with polling behind it. Against a scripted gateway on loopback (real
 * sockets, fake time), the moved end-to-end case: fall back after fallbackAfterMs unreachable, return to
 * push when the gateway is back. Against a push source driven by hand, the schedule and the event
 * sequence exactly: when the delay starts and what cancels it, whose failures reach the room while
 * polling, which poll stops when, and that nothing (timer, listener, poll) is left behind.
 */
import { EventEmitter } from "eventemitter3";
import { afterEach, describe, expect, it } from "vitest";
import type { PollResult } from "../../src/core/observation.js";
import { GatewayError, HttpError, NetworkError } from "../../src/core/errors.js";
import { toWireResult } from "../../src/protocol/messages.js";
import type { SourceListener } from "../../src/core/source.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { withFallback, type PushConnectionEvents } from "../../src/watch/with-fallback.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { recorder, scriptedGatewayHarness } from "../helpers/scripted-gateway.js";
import { active, ScriptedSource, starting, type Step } from "../helpers/scripted-source.js";

const wire = toWireResult;

const { gateway, source, cleanups } = scriptedGatewayHarness();
afterEach(() => cleanups.run());

/** A push source whose connection and results the test drives by hand. */
class ManualPushSource extends EventEmitter<PushConnectionEvents> {
  readonly kind = "push";
  readonly key = "manual";
  connected = true;
  readonly rooms = new Map<string, SourceListener>();
  unsubscriptions = 0;

  subscribe(roomId: string, listener: SourceListener) {
    this.rooms.set(roomId, listener);
    return {
      unsubscribe: () => {
        this.unsubscriptions++;
        this.rooms.delete(roomId);
        return Promise.resolve();
      },
    };
  }

  lose(at: number): void {
    this.connected = false;
    this.emit("disconnected", { at });
  }

  regain(at: number): void {
    this.connected = true;
    this.emit("connected", { at });
  }

  push(roomId: string, result: PollResult, at: number): void {
    this.rooms.get(roomId)?.onResult(result, at);
  }
}

/** The combinator over a hand-driven push source, with polls from a script, on one fake clock. */
function manual(steps: Step[] = [starting]) {
  const time = fakeClock();
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
  cleanups.push(() => fleet.close());
  const push = new ManualPushSource();
  const polled = new ScriptedSource(steps, () => time.fake.now, "upstream");
  const combined = withFallback(push, polled, { fallbackAfterMs: 1_000, fleet, clock: time.clock, pollOptions: { pollIntervalMs: 200, maxPollIntervalMs: 200, jitter: 0 } });
  const modes: Array<{ active: boolean; at: number }> = [];
  combined.on("fallback", (e) => modes.push(e));
  return { time, fleet, push, polled, combined, modes };
}

describe("withFallback over a WebSocketSource, on a fake clock", () => {
  it("falls back to polling after fallbackAfterMs unreachable, and returns to push when the gateway is back", async () => {
    const g = await gateway();
    let pushPort = 5000;
    g.onMessage = (socket, message) => {
      if (message.type === "subscribe") g.send(socket, { type: "snapshot", roomId: message.roomId, seq: 0, result: wire(active(pushPort)), at: 1 });
    };
    const time = fakeClock();
    const fleet = new Fleet({ clock: time.clock, random: () => 0.5 });
    const polled = new ScriptedSource([starting, active(7000)], () => time.fake.now, "upstream");
    const push = source(time, g.url);
    const ws = withFallback(push, polled, { fallbackAfterMs: 1_000, fleet, clock: time.clock });
    const modes: boolean[] = [];
    ws.on("fallback", (e) => modes.push(e.active));
    const room = recorder();
    const subscription = ws.subscribe("r1", room.listener);
    await room.until(() => room.results.length === 1);

    // Each refused reconnect reports its delay; ticking exactly that long makes the next attempt.
    const refusals: Array<{ nextDelayMs: number }> = [];
    let wake: (() => void) | undefined;
    push.on("disconnected", (e) => {
      refusals.push(e);
      wake?.();
    });
    const nextRefusal = async (): Promise<{ nextDelayMs: number }> => {
      while (refusals.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return refusals.shift() as { nextDelayMs: number };
    };
    await g.close();
    await room.until(() => room.failures.length === 1);
    // Reconnects at 75, 150, 300, 600 ms... fail; at 1,000 ms unreachable the rooms poll directly.
    while (!ws.fallbackActive) await time.tick((await nextRefusal()).nextDelayMs);
    expect(modes).toEqual([true]);
    expect(ws.fallbackActive).toBe(true);
    await room.until(() => room.results.some((r) => r.observation.kind === "starting"));
    expect(polled.calls.length).toBeGreaterThanOrEqual(1);
    const failuresInFallback = room.failures.length;

    pushPort = 6000;
    await g.listen();
    const back = new Promise<void>((resolve) => ws.once("fallback", () => resolve()));
    // The attempt under way or the next one reaches the gateway again.
    while (ws.fallbackActive) {
      const refusal = await Promise.race([nextRefusal(), back.then(() => undefined)]);
      if (refusal !== undefined) await time.tick(refusal.nextDelayMs);
    }
    await room.until(() => room.results.some((r) => r.observation.kind === "active" && r.observation.connection.exposedPort.port === 6000));
    expect(modes).toEqual([true, false]);
    // Connection failures while polling are not reported per room: the polls report their own.
    expect(room.failures.length).toBe(failuresInFallback);
    // Push delivered, so the room's direct poll is gone.
    expect(fleet.size).toBe(0);
    const pollsAfter = polled.calls.length;
    await time.tick(10_000);
    expect(polled.calls.length).toBe(pollsAfter);
    await subscription.unsubscribe();
    await fleet.close();
    expect(time.timers()).toBe(0);
  });

});

describe("withFallback over a push source driven by hand, on a fake clock", () => {
  it("starts the delay at the first failure, not at each one, and polls exactly fallbackAfterMs later", async () => {
    const { time, fleet, push, polled, combined, modes } = manual();
    const room = recorder();
    const subscription = combined.subscribe("r1", room.listener);
    const start = time.fake.now;
    push.lose(start);
    expect(time.timers()).toBe(1);
    await time.tick(600);
    push.lose(time.fake.now); // a failed reconnect does not postpone the fallback
    expect(time.timers()).toBe(1);
    await time.tick(399);
    expect(modes).toEqual([]);
    expect(polled.calls).toEqual([]);
    await time.tick(1);
    expect(modes).toEqual([{ active: true, at: start + 1_000 }]);
    expect(combined.fallbackActive).toBe(true);
    await room.until(() => room.results.length === 1);
    expect(polled.calls).toEqual([start + 1_000]);
    expect(fleet.size).toBe(1);
    await subscription.unsubscribe();
    // The last room gone: polling over, no timer, no poll, no listener left on the push source.
    expect(modes).toEqual([{ active: true, at: start + 1_000 }, { active: false, at: start + 1_000 }]);
    expect(fleet.size).toBe(0);
    expect(push.listenerCount("connected") + push.listenerCount("disconnected")).toBe(0);
    expect(push.unsubscriptions).toBe(1);
    expect(time.timers()).toBe(0);
  });

  it("push back before fallbackAfterMs: no fallback, no poll, and the next outage starts a fresh delay", async () => {
    const { time, push, polled, combined, modes } = manual();
    const room = recorder();
    const subscription = combined.subscribe("r1", room.listener);
    push.lose(time.fake.now);
    await time.tick(999);
    push.regain(time.fake.now);
    expect(time.timers()).toBe(0);
    const second = time.fake.now;
    push.lose(second);
    await time.tick(999);
    expect(modes).toEqual([]);
    await time.tick(1);
    expect(modes).toEqual([{ active: true, at: second + 1_000 }]);
    await room.until(() => room.results.length === 1);
    expect(polled.calls).toEqual([second + 1_000]);
    await subscription.unsubscribe();
    expect(time.timers()).toBe(0);
  });

  it("while polling, push's failures are not reported and the poll's are; push's first word stops that room's poll only", async () => {
    const { time, fleet, push, polled, combined, modes } = manual([new NetworkError("upstream down"), starting]);
    const a = recorder();
    const b = recorder();
    const subscriptions = [combined.subscribe("a", a.listener), combined.subscribe("b", b.listener)];
    push.lose(time.fake.now);
    await time.tick(1_000);
    expect(combined.fallbackActive).toBe(true);
    for (const roomId of ["a", "b"]) push.rooms.get(roomId)?.onTransientFailure({ error: new GatewayError("connection", "lost"), attempt: 2, nextDelayMs: 150, at: time.fake.now });
    // The script's one failure went to the first room polled.
    await a.until(() => a.failures.length === 1);
    expect(a.failures[0]?.error).toBeInstanceOf(NetworkError);
    expect(b.failures).toEqual([]);
    // Back: polling ends at once, but each room polls until push has said something about it.
    push.regain(time.fake.now);
    expect(modes.map((m) => m.active)).toEqual([true, false]);
    expect(fleet.size).toBe(2);
    push.push("a", active(4000), time.fake.now);
    expect(a.results.at(-1)?.observation.kind).toBe("active");
    await time.tick(0);
    expect(fleet.size).toBe(1);
    const pollsOfB = polled.calls.length;
    await time.tick(1_000);
    expect(polled.calls.length).toBeGreaterThan(pollsOfB);
    push.push("b", active(4001), time.fake.now);
    await time.tick(0);
    expect(fleet.size).toBe(0);
    // Push's failures reach the rooms again now that it is not polling.
    push.rooms.get("b")?.onTransientFailure({ error: new GatewayError("connection", "lost"), attempt: 1, nextDelayMs: 75, at: time.fake.now });
    expect(b.failures.map((f) => f.error.constructor.name)).toEqual(["GatewayError"]);
    expect(a.failures).toHaveLength(1);
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    expect(time.timers()).toBe(0);
  });

  it("a room subscribed while polling is polled at once; a fatal poll ends it once, and push says nothing more to it", async () => {
    const { time, push, combined } = manual([new HttpError(403, "forbidden")]);
    const early = recorder();
    const first = combined.subscribe("early", early.listener);
    push.lose(time.fake.now);
    await time.tick(1_000);
    const late = recorder();
    const second = combined.subscribe("late", late.listener);
    await late.until(() => late.fatals.length === 1);
    expect(late.fatals[0]).toMatchObject({ status: 403 });
    push.push("late", active(1), time.fake.now);
    expect(late.results).toEqual([]);
    await Promise.all([first.unsubscribe(), second.unsubscribe()]);
    expect(time.timers()).toBe(0);
  });

  it("feeds a RoomWatcher: active from the poll while push is down, and the watcher ends with nothing left", async () => {
    const { time, fleet, push, combined } = manual([starting, active(7000)]);
    const watcher = new RoomWatcher({ roomId: "r1", source: combined, fleet: new Fleet({ clock: time.clock }) });
    const statuses: string[] = [];
    watcher.on("status", (e) => statuses.push(e.to));
    watcher.start();
    push.lose(time.fake.now);
    await time.tick(1_000);
    await time.tick(200);
    expect(watcher.connection?.exposedPort.port).toBe(7000);
    expect(statuses).toEqual(["starting", "active"]);
    await watcher.stop();
    expect(fleet.size).toBe(0);
    expect(time.timers()).toBe(0);
  });

  it("refuses a negative fallbackAfterMs by name", () => {
    const push = new ManualPushSource();
    const polled = new ScriptedSource([starting], () => 0);
    expect(() => withFallback(push, polled, { fallbackAfterMs: -1 })).toThrow(/fallbackAfterMs/);
  });
});
