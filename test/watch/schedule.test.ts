/**
 * Fake-clock lifecycle tests: the scheduled delays, the event sequences, and that nothing is
 * left running afterwards.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HttpError, InvalidPayloadError, NetworkError, RateLimitedError, RoomTerminatedError, WaitTimeoutError } from "../../src/core/errors.js";
import type { TerminatedEvent } from "../../src/watch/events.js";
import { Fleet } from "../../src/watch/fleet.js";
import { RoomWatcher, type RoomWatcherOptions } from "../../src/watch/room-watcher.js";
import { waitForActive } from "../../src/watch/wait-for-active.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { active, notFound, ScriptedSource, type Step, starting } from "../helpers/scripted-source.js";

/** What afterEach checks: the fleet and the fake clock of the running test. */
let env: { readonly fleet: Fleet; readonly timers: () => number } | undefined;

function setup(steps: Step[], random = () => 0.5) {
  const time = fakeClock();
  const source = new ScriptedSource(steps, () => time.clock.now());
  const fleet = new Fleet({ clock: time.clock, random });
  const events: string[] = [];
  const watch = (options: Partial<RoomWatcherOptions> = {}) => {
    const watcher = new RoomWatcher({ roomId: "room1", source, fleet, ...options });
    for (const name of ["starting", "active", "terminated", "error", "status", "warning"] as const) {
      watcher.on(name, (event: object) => {
        const detail =
          name === "status" ? `${(event as { from: string }).from}>${(event as { to: string }).to}`
          : name === "active" ? `${(event as { exposedPort: { port: number } }).exposedPort.port}${(event as { moved: boolean }).moved ? " moved" : ""}`
          : name === "terminated" ? (event as { reason: string }).reason
          : name === "error" ? `#${(event as { attempt: number }).attempt} +${(event as { nextDelayMs: number }).nextDelayMs}`
          : "";
        events.push(detail ? `${name}(${detail})` : name);
      });
    }
    return watcher;
  };
  env = { fleet, timers: time.timers };
  return { ...time, source, fleet, events, watch };
}

afterEach(async () => {
  // Every test must leave no timer and no poll loop behind.
  if (env !== undefined) {
    expect(env.fleet.size).toBe(0);
    expect(env.timers()).toBe(0);
    expect(env.fleet.timers.size).toBe(0);
    await env.fleet.close();
  }
  env = undefined;
});

describe("poll schedule", () => {
  it("looks at once, backs off while starting, then slows down once active", async () => {
    const t = setup([starting, starting, starting, starting, starting, starting, starting, active(7777)]);
    const watcher = t.watch().start();
    await t.tick(0);
    expect(t.source.calls).toHaveLength(1);
    expect(t.elapsed()).toBe(0);
    await t.tick(11_000);
    // 500, 750, 1125, 1688 (×1.5, rounded), capped at 2000 — jitter pinned to its midpoint.
    expect(t.source.gaps().slice(0, 7)).toEqual([500, 750, 1125, 1688, 2000, 2000, 2000]);
    expect(watcher.status).toBe("active");
    await t.tick(10_000);
    expect(t.source.gaps().slice(7)).toEqual([5000, 5000]);
    expect(t.events).toEqual(["status(unknown>starting)", "starting", "status(starting>active)", "active(7777)"]);
    await watcher.stop();
    expect(t.events.slice(-2)).toEqual(["status(active>terminated)", "terminated(stopped)"]);
  });

  it.each([
    ["low", () => 0, [400, 600, 900]],
    ["high", () => 0.999_999, [600, 900, 1350]],
  ])("jitter at its %s bound stays within ±20%%", async (_name, random, expected) => {
    const t = setup([starting, starting, starting, active(1)], random);
    const watcher = t.watch().start();
    await t.tick(5_000);
    expect(t.source.gaps()).toEqual(expected);
    await watcher.stop();
  });

  it("retries a transient failure with backoff and reports each one", async () => {
    const t = setup([new NetworkError("reset"), new HttpError(503, "busy"), new HttpError(408, undefined), active(1)]);
    const watcher = t.watch().start();
    await t.tick(3_000);
    // equal jitter at the midpoint: 375, 750, 1500 ms
    expect(t.source.gaps()).toEqual([375, 750, 1500]);
    expect(t.events).toEqual(["error(#1 +375)", "error(#2 +750)", "error(#3 +1500)", "status(unknown>active)", "active(1)"]);
    await watcher.stop();
  });

  it("caps the failure backoff", async () => {
    const t = setup([new HttpError(500, undefined)]);
    const watcher = t.watch({ timeoutMs: Number.POSITIVE_INFINITY }).start();
    await t.tick(200_000);
    expect(Math.max(...t.source.gaps())).toBe(11_250);
    await watcher.stop();
  });

  it.each([
    ["seconds", 3_000, 3_000],
    ["a date, capped", 3_600_000, 60_000],
  ])("honours Retry-After given as %s", async (_name, retryAfterMs, expectedGap) => {
    const t = setup([new RateLimitedError(retryAfterMs, undefined), starting, active(2)]);
    const watcher = t.watch().start();
    await t.tick(expectedGap + 1_000);
    expect(t.source.gaps()[0]).toBe(expectedGap);
    expect(t.events[0]).toBe(`error(#1 +${expectedGap})`);
    await watcher.stop();
  });

  it("a 429 without Retry-After backs off like any failure", async () => {
    const t = setup([new RateLimitedError(undefined, undefined), active(2)]);
    const watcher = t.watch().start();
    await t.tick(1_000);
    expect(t.source.gaps()).toEqual([375]);
    await watcher.stop();
  });
});

describe("terminal outcomes", () => {
  it.each([400, 401, 402, 403, 422])("HTTP %i fails fast with the cause attached", async (status) => {
    const t = setup([starting, new HttpError(status, "no")]);
    const watcher = t.watch();
    const ended = new Promise((resolve) => watcher.once("terminated", resolve));
    watcher.start();
    await t.tick(1_000);
    expect(t.source.calls).toHaveLength(2);
    expect(await ended).toMatchObject({ reason: "failed", cause: { status, code: "RW_HTTP" } });
    await t.tick(10_000);
    expect(t.source.calls).toHaveLength(2);
  });

  it("a run of invalid payloads fails; fewer do not", async () => {
    const bad = () => new InvalidPayloadError("garbled");
    const t = setup([bad(), bad(), starting, bad(), bad(), bad()]);
    const watcher = t.watch().start();
    await t.tick(20_000);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "failed", cause: { code: "RW_INVALID_PAYLOAD" } });
    expect(t.events.filter((e) => e.startsWith("error"))).toHaveLength(4);
  });

  it("404 within the grace keeps polling; past it the room is not_found", async () => {
    const t = setup([notFound]);
    const watcher = t.watch({ notFoundGraceMs: 2_000 }).start();
    await t.tick(1_999);
    expect(watcher.status).toBe("unknown");
    await t.tick(1_000);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "not_found" });
    expect(t.events).toEqual(["status(unknown>terminated)", "terminated(not_found)"]);
  });

  it("404 after the room was seen means destroyed, with the last connection", async () => {
    const t = setup([starting, active(9), notFound]);
    const watcher = t.watch().start();
    await t.tick(10_000);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "destroyed", lastConnection: { exposedPort: { port: 9 } } });
    expect(t.events).toEqual([
      "status(unknown>starting)",
      "starting",
      "status(starting>active)",
      "active(9)",
      "status(active>terminated)",
      "terminated(destroyed)",
    ]);
  });

  it("a rescheduled room: active -> starting -> active on a new port, flagged as moved", async () => {
    const t = setup([active(1), starting, active(2)]);
    const watcher = t.watch({ activePollIntervalMs: 1_000 }).start();
    await t.tick(3_000);
    expect(t.events).toEqual([
      "status(unknown>active)",
      "active(1)",
      "status(active>starting)",
      "starting",
      "status(starting>active)",
      "active(2 moved)",
    ]);
    await watcher.stop();
  });

  it("the deadline ends a room that never becomes active", async () => {
    const t = setup([starting]);
    const watcher = t.watch({ timeoutMs: 30_000 }).start();
    await t.tick(29_999);
    expect(watcher.status).toBe("starting");
    await t.tick(1);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "timeout", since: t.fake.now });
    const looks = t.source.calls.length;
    await t.tick(10_000);
    expect(t.source.calls).toHaveLength(looks);
  });

  it("the deadline does not apply once active", async () => {
    const t = setup([active(1)]);
    const watcher = t.watch({ timeoutMs: 1_000 }).start();
    await t.tick(10_000);
    expect(watcher.status).toBe("active");
    await watcher.stop();
  });

  it("aborting mid-request ends the watch with the signal's reason and aborts the request", async () => {
    let requestSignal: AbortSignal | undefined;
    const hanging: Step = (signal) => {
      requestSignal = signal;
      return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
    };
    const t = setup([starting, hanging]);
    const controller = new AbortController();
    const watcher = t.watch({ signal: controller.signal }).start();
    await t.tick(600);
    expect(requestSignal?.aborted).toBe(false);
    const reason = new Error("caller went away");
    controller.abort(reason);
    expect(watcher.state).toMatchObject({ status: "terminated", reason: "aborted", cause: reason });
    expect(requestSignal?.aborted).toBe(true);
    await watcher.stop();
  });

  it("stop() is idempotent and emits terminated once", async () => {
    const t = setup([starting]);
    const watcher = t.watch().start();
    await t.tick(100);
    await Promise.all([watcher.stop(), watcher.stop()]);
    await watcher.stop();
    expect(t.events.filter((e) => e.startsWith("terminated"))).toEqual(["terminated(stopped)"]);
    watcher.start();
    await t.tick(10_000);
    expect(t.source.calls).toHaveLength(1);
  });

  it("a throwing listener neither breaks the watcher nor the poll loop", async () => {
    const t = setup([starting, active(3)]);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const watcher = t.watch();
      watcher.on("starting", () => {
        throw new Error("listener bug");
      });
      watcher.start();
      await t.tick(1_000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(watcher.status).toBe("active");
      expect(warnings.some((w) => w.includes("listener bug"))).toBe(true);
      await watcher.stop();
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("reports an unknown status as a warning and keeps watching", async () => {
    const t = setup([{ observation: { kind: "unrecognized", status: "warming" }, warnings: [{ code: "UNKNOWN_STATUS", value: "warming", message: "m" }] }, active(4)]);
    const watcher = t.watch().start();
    await t.tick(1_000);
    expect(t.events).toEqual(["warning", "status(unknown>active)", "active(4)"]);
    await watcher.stop();
  });
});

describe("waitForActive", () => {
  it("resolves the connection and leaves nothing running", async () => {
    const t = setup([starting, starting, active(5555)]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet });
    await t.tick(2_000);
    await expect(wait).resolves.toMatchObject({ roomId: "room1", exposedPort: { port: 5555 }, additionalExposedPorts: [] });
    await t.tick(60_000);
    expect(t.source.calls).toHaveLength(3);
  });

  it("concurrent waits for one room share one poll", async () => {
    const t = setup([starting, starting, active(5555)]);
    const waits = Array.from({ length: 50 }, () => waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet }));
    await t.tick(2_000);
    const results = await Promise.all(waits);
    expect(new Set(results.map((r) => r.exposedPort.port))).toEqual(new Set([5555]));
    expect(t.source.calls).toHaveLength(3);
  });

  it("a late waiter resolves at once from the shared poll's latest answer", async () => {
    const t = setup([active(5555)]);
    const watcher = t.watch().start();
    await t.tick(0);
    const late = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet });
    await expect(late).resolves.toMatchObject({ exposedPort: { port: 5555 } });
    expect(t.source.calls).toHaveLength(1);
    await watcher.stop();
  });

  it("rejects with WaitTimeoutError after timeoutMs", async () => {
    const t = setup([starting]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs: 5_000 });
    const settled = expect(wait).rejects.toBeInstanceOf(WaitTimeoutError);
    await t.tick(5_000);
    await settled;
    await expect(wait).rejects.toMatchObject({ code: "RW_TIMEOUT", roomId: "room1", timeoutMs: 5_000 });
  });

  it("a wait whose every look fails times out saying the upstream was never reached, how often, the last error and where", async () => {
    const t = setup([new NetworkError("connect ECONNREFUSED 127.0.0.1:4000", { hint: "nothing listens there" })]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs: 5_000 });
    const settled = expect(wait).rejects.toBeInstanceOf(WaitTimeoutError);
    await t.tick(5_000);
    await settled;
    const error = (await wait.catch((e: unknown) => e)) as WaitTimeoutError;
    const looks = t.source.calls.length;
    expect(looks).toBeGreaterThan(2);
    expect(error.evidence).toMatchObject({
      target: { name: "the scripted API", url: "scripted://rooms/room1", app: "app-1" },
      answeredLooks: 0,
      failedLooks: looks,
      lastObservation: undefined,
      hint: "nothing listens there",
    });
    expect(error.evidence?.lastError).toBeInstanceOf(NetworkError);
    expect(error.cause).toBe(error.evidence?.lastError);
    expect(error.message).toBe(
      `room room1 did not become active within 5000 ms: the scripted API was never reached: ${looks} looks failed, ` +
        "the last: connect ECONNREFUSED 127.0.0.1:4000 (nothing listens there) [RW_NETWORK]; looked at scripted://rooms/room1 (app app-1)",
    );
  });

  it("a wait that reached the upstream and then lost it times out saying both, and the room's last known status", async () => {
    const t = setup([starting, starting, new HttpError(502, "bad gateway")]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, timeoutMs: 5_000 });
    const settled = expect(wait).rejects.toBeInstanceOf(WaitTimeoutError);
    await t.tick(5_000);
    await settled;
    const error = (await wait.catch((e: unknown) => e)) as WaitTimeoutError;
    const failed = t.source.calls.length - 2;
    expect(error.evidence).toMatchObject({ answeredLooks: 2, failedLooks: failed, lastObservation: "starting", hint: undefined });
    expect(error.message).toBe(
      `room room1 did not become active within 5000 ms: 2 looks answered (the last: starting), ${failed} failed, ` +
        "the last: HTTP 502: bad gateway [RW_HTTP]; looked at scripted://rooms/room1 (app app-1)",
    );
  });

  it("a room not found past the grace ends naming where it was looked for, with the source's hint", async () => {
    const t = setup([{ ...notFound, hint: "is the base URL right?" }]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, notFoundGraceMs: 1_000 });
    const settled = expect(wait).rejects.toBeInstanceOf(RoomTerminatedError);
    await t.tick(2_000);
    await settled;
    const error = (await wait.catch((e: unknown) => e)) as RoomTerminatedError;
    const looks = t.source.calls.length;
    expect(error).toMatchObject({ reason: "not_found", evidence: { answeredLooks: looks, failedLooks: 0, lastObservation: "not_found", hint: "is the base URL right?" } });
    expect(error.message).toBe(
      `room room1 terminated before it became active: not_found: ${looks} looks answered (the last: 404, no such room), 0 failed; ` +
        "looked at scripted://rooms/room1 (app app-1); is the base URL right?",
    );
  });

  it("the terminated event carries the evidence, on the watcher and on the fleet alike", async () => {
    const t = setup([starting, new HttpError(401, "bad token")]);
    const fleetEnded = new Promise<TerminatedEvent>((resolve) => t.fleet.once("terminated", resolve));
    const watcher = t.watch().start();
    const ended = new Promise<TerminatedEvent>((resolve) => watcher.once("terminated", resolve));
    await t.tick(1_000);
    for (const event of [await ended, await fleetEnded]) {
      expect(event).toMatchObject({ reason: "failed", evidence: { answeredLooks: 1, failedLooks: 1, lastObservation: "starting" } });
      expect(event.evidence.lastError).toBe(event.cause);
      expect(Object.isFrozen(event.evidence)).toBe(true);
    }
    await watcher.stop();
  });

  it("rejects with RoomTerminatedError carrying the reason", async () => {
    const t = setup([starting, notFound]);
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet });
    const settled = expect(wait).rejects.toBeInstanceOf(RoomTerminatedError);
    await t.tick(1_000);
    await settled;
    await expect(wait).rejects.toMatchObject({ code: "RW_ROOM_TERMINATED", reason: "destroyed" });
  });

  it("rejects with signal.reason on abort, and at once if already aborted (no request)", async () => {
    const t = setup([starting]);
    const controller = new AbortController();
    const wait = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: controller.signal });
    await t.tick(100);
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(wait).rejects.toBe(reason);
    const looks = t.source.calls.length;
    await expect(waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: controller.signal })).rejects.toBe(reason);
    expect(t.source.calls).toHaveLength(looks);
  });

  it("one waiter aborting does not disturb another on the same room", async () => {
    const t = setup([starting, starting, starting, active(6)]);
    const controller = new AbortController();
    const first = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet, signal: controller.signal });
    const second = waitForActive({ roomId: "room1", source: t.source, fleet: t.fleet });
    await t.tick(100);
    controller.abort(new Error("first leaves"));
    await expect(first).rejects.toThrow("first leaves");
    await t.tick(5_000);
    await expect(second).resolves.toMatchObject({ exposedPort: { port: 6 } });
  });

  it("rejects bad options with a ConfigError before any request", async () => {
    const t = setup([starting]);
    await expect(waitForActive({ roomId: "../admin", source: t.source, fleet: t.fleet })).rejects.toMatchObject({ code: "RW_INVALID_CONFIG" });
    await expect(waitForActive({ roomId: "r", appId: "a", baseUrl: "file:///etc/passwd", fleet: t.fleet })).rejects.toMatchObject({ code: "RW_INVALID_CONFIG" });
    await expect(waitForActive({ roomId: "r", source: t.source, fleet: t.fleet, pollIntervalMs: -1 })).rejects.toMatchObject({ code: "RW_INVALID_CONFIG" });
    expect(t.source.calls).toHaveLength(0);
  });
});
