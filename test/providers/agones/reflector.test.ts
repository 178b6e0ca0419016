import { afterEach, describe, expect, it } from "vitest";
import { AccessDeniedError, HttpError, NetworkError, RateLimitedError } from "../../../src/core/errors.js";
import { TimerHeap } from "../../../src/core/timer-heap.js";
import { Reflector, type ReflectorObserver } from "../../../src/providers/agones/reflector.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { gameServer, list, ScriptedTransport } from "./scripted-transport.js";

function setup(random = () => 0.5) {
  const time = fakeClock();
  const transport = new ScriptedTransport();
  const log: string[] = [];
  const delays: number[] = [];
  const observer: ReflectorObserver = {
    onSynced: () => log.push("synced"),
    onChange: (change) => log.push(`${change.type} ${change.entry.name}`),
    onFailure: (failure) => {
      delays.push(failure.nextDelayMs);
      log.push(`failure ${failure.error.code} attempt=${failure.attempt} delay=${failure.nextDelayMs}`);
    },
    onFatal: (error) => log.push(`fatal ${error.code}`),
    onWatchEnd: (why) => log.push(`watch-end ${why}`),
  };
  const reflector = new Reflector(
    {
      namespace: "default",
      transport,
      clock: time.clock,
      timers: new TimerHeap(time.clock),
      random,
      initialRetryDelayMs: 800,
      maxRetryDelayMs: 30_000,
      maxRetryAfterMs: 60_000,
      stallTimeoutMs: 90_000,
    },
    observer,
  );
  return { time, transport, log, delays, reflector };
}

let current: ReturnType<typeof setup> | undefined;
afterEach(async () => {
  if (current === undefined) return;
  await current.reflector.stop();
  // Nothing left: no backoff, no watchdog.
  expect(current.time.timers()).toBe(0);
  current = undefined;
});

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Reflector", () => {
  it("lists, then watches from the list's resourceVersion with a timeout in [300, 600] s", async () => {
    for (const [random, seconds] of [
      [0, 300],
      [0.999999, 600],
      [0.5, 450],
    ] as const) {
      const s = setup(() => random);
      s.transport.answerList(list("10", [gameServer("a", "Ready", { rv: "9" })]));
      s.reflector.start();
      await settle();
      expect(s.transport.calls).toEqual(["list default", "watch default rv=10"]);
      expect(s.transport.lastWatch.timeoutSeconds).toBe(seconds);
      expect(s.log).toEqual(["upsert a", "synced"]);
      expect(s.reflector.get("a")?.kind).toBe("object");
      await s.reflector.stop();
      expect(s.time.timers()).toBe(0);
    }
  });

  it("a bookmark advances the resourceVersion the next watch resumes from", async () => {
    const s = (current = setup());
    s.transport.answerList(list("10", []));
    s.reflector.start();
    await settle();
    s.transport.lastWatch.push({ type: "ADDED", object: gameServer("a", "Scheduled", { rv: "11" }) }, { type: "BOOKMARK", object: { kind: "GameServer", metadata: { resourceVersion: "57" } } });
    s.transport.lastWatch.end();
    await settle();
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "watch default rv=57"]);
    expect(s.log).toEqual(["synced", "upsert a", "watch-end closed"]);
  });

  it("a 410 ERROR event mid-stream relists at once, and the diff turns a server gone meanwhile into a delete", async () => {
    const s = (current = setup());
    s.transport.answerList(list("10", [gameServer("a", "Ready", { rv: "5" }), gameServer("b", "Ready", { rv: "6" })]));
    s.reflector.start();
    await settle();
    s.transport.answerList(list("30", [gameServer("a", "Allocated", { rv: "25" }), gameServer("c", "Ready", { rv: "29" })]));
    s.transport.lastWatch.push(
      { type: "MODIFIED", object: gameServer("b", "Ready", { rv: "12" }) },
      { type: "ERROR", object: { kind: "Status", status: "Failure", reason: "Expired", code: 410, message: "too old resource version: 12 (20)" } },
    );
    await settle();
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "list default", "watch default rv=30"]);
    expect(s.log).toEqual(["upsert a", "upsert b", "synced", "upsert b", "watch-end expired", "delete b", "upsert a", "upsert c", "synced"]);
    expect(s.reflector.get("b")).toBeUndefined();
    expect(s.time.elapsed()).toBe(0);
  });

  it("a stream cut mid-way resumes, after its backoff, from the last event it delivered, not from where it began", async () => {
    // Found by the chaos soak: resuming from the start replays what the cache already holds, and a stream
    // cut now and then during a long replay never gets past it.
    const s = (current = setup());
    s.transport.answerList(list("10", []));
    s.reflector.start();
    await settle();
    s.transport.lastWatch.push({ type: "ADDED", object: gameServer("a", "Scheduled", { rv: "11" }) }, { type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } });
    s.transport.lastWatch.push({ type: "MODIFIED", object: gameServer("a", "Ready", { rv: "16" }) });
    s.transport.lastWatch.fail(new NetworkError("ECONNRESET"));
    await settle();
    await s.time.tick(600);
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "watch default rv=16"]);
    expect(s.log).toEqual(["synced", "upsert a", "upsert a", "failure RW_NETWORK attempt=1 delay=600"]);
  });

  it("an HTTP 410 on the watch request relists too", async () => {
    const s = (current = setup());
    s.transport.answerList(list("10", [gameServer("a", "Ready", { rv: "5" })]));
    s.reflector.start();
    await settle();
    s.transport.lastWatch.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "20" } } });
    s.transport.lastWatch.end();
    await settle();
    // The resumed watch's version has expired: the server answers 410 before any event.
    s.transport.answerList(list("40", []));
    s.transport.lastWatch.fail(new HttpError(410, "too old resource version"));
    await settle();
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "watch default rv=20", "list default", "watch default rv=40"]);
    expect(s.log.slice(-3)).toEqual(["watch-end expired", "delete a", "synced"]);
  });

  it("the stall watchdog restarts a watch silent for stallTimeoutMs (events and bookmarks keep it alive)", async () => {
    const s = (current = setup());
    s.transport.answerList(list("10", []));
    s.reflector.start();
    await settle();
    await s.time.tick(60_000);
    s.transport.lastWatch.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "11" } } });
    await s.time.tick(89_999);
    expect(s.transport.watches).toHaveLength(1);
    await s.time.tick(1);
    expect(s.transport.watches[0]?.aborted).toBe(true);
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "watch default rv=11"]);
    expect(s.log).toEqual(["synced", "watch-end stalled"]);
    expect(s.time.elapsed()).toBe(150_000);
  });

  it("a list failing with 5xx backs off 800 ms doubling (equal jitter), capped at 30 s, and a success resets it", async () => {
    const s = (current = setup(() => 1));
    for (let i = 0; i < 7; i++) s.transport.answerList(new HttpError(503, "unavailable"));
    s.transport.answerList(list("10", []));
    s.reflector.start();
    await settle();
    for (const delay of [800, 1600, 3200, 6400, 12_800, 25_600, 30_000]) await s.time.tick(delay);
    expect(s.delays).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000]);
    expect(s.transport.calls.at(-1)).toBe("watch default rv=10");
    // Reset: the next failure starts again at 800 ms.
    s.transport.lastWatch.fail(new HttpError(500, "boom"));
    await settle();
    expect(s.delays.at(-1)).toBe(800);
  });

  it("a 429 on list waits out Retry-After (capped at maxRetryAfterMs)", async () => {
    const s = (current = setup());
    s.transport.answerList(new RateLimitedError(7_000, "slow down")).answerList(new RateLimitedError(600_000, undefined)).answerList(list("3", []));
    s.reflector.start();
    await settle();
    await s.time.tick(7_000);
    await s.time.tick(60_000);
    expect(s.delays).toEqual([7_000, 60_000]);
    expect(s.transport.calls).toEqual(["list default", "list default", "list default", "watch default rv=3"]);
  });

  it("401/403 end it with AccessDeniedError naming the RBAC verb, and no retry", async () => {
    const s = (current = setup());
    const fatal: unknown[] = [];
    const forbidden = new AccessDeniedError(403, "list", 'gameservers.agones.dev in namespace "default"', "forbidden");
    s.transport.answerList(forbidden);
    const r = new Reflector(
      { namespace: "default", transport: s.transport, clock: s.time.clock, timers: new TimerHeap(s.time.clock), random: () => 0.5, initialRetryDelayMs: 800, maxRetryDelayMs: 30_000, maxRetryAfterMs: 60_000, stallTimeoutMs: 90_000 },
      { onSynced: () => {}, onChange: () => {}, onFailure: () => {}, onFatal: (error) => fatal.push(error) },
    );
    r.start();
    await settle();
    await s.time.tick(60_000);
    expect(fatal).toEqual([forbidden]);
    expect(forbidden.message).toContain('lack the "list" right');
    expect(s.transport.calls).toEqual(["list default"]);
    await r.stop();
  });

  it("a watch that ends at once with nothing said backs off instead of spinning", async () => {
    const s = (current = setup(() => 0));
    s.transport.answerList(list("10", []));
    s.reflector.start();
    await settle();
    s.transport.lastWatch.end();
    await settle();
    expect(s.log.at(-1)).toBe("failure RW_NETWORK attempt=1 delay=400");
    expect(s.transport.watches).toHaveLength(1);
    await s.time.tick(400);
    expect(s.transport.watches).toHaveLength(2);
  });

  it("an unknown event type is reported and skipped; a malformed line relists after a backoff", async () => {
    const s = (current = setup(() => 0));
    const warnings: unknown[] = [];
    s.transport.answerList(list("10", []));
    const r = new Reflector(
      { namespace: "default", transport: s.transport, clock: s.time.clock, timers: new TimerHeap(s.time.clock), random: () => 0, initialRetryDelayMs: 800, maxRetryDelayMs: 30_000, maxRetryAfterMs: 60_000, stallTimeoutMs: 90_000 },
      { onSynced: () => {}, onChange: () => {}, onFailure: (f) => warnings.push(f.error.code), onFatal: () => {}, onWarning: (w) => warnings.push(w.code) },
    );
    r.start();
    await settle();
    s.transport.answerList(list("20", []));
    s.transport.lastWatch.push({ type: "SOMETHING_NEW", object: {} }, { type: "MODIFIED", object: { nope: true } });
    await settle();
    expect(warnings).toEqual(["UNKNOWN_STATUS", "RW_INVALID_PAYLOAD"]);
    await s.time.tick(400);
    expect(s.transport.calls).toEqual(["list default", "watch default rv=10", "list default", "watch default rv=20"]);
    await r.stop();
  });
});
