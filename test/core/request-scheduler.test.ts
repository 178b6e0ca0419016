/**
 * The fleet's request budget on a fake clock: when each turn is granted (GCRA rate and burst, requests
 * in flight, the 429 pause), in which order (urgency, then due time), and that a cancelled or aborted
 * turn leaves nothing queued and no timer behind.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { type BudgetLane, type QueuedTurn, RequestScheduler, type RequestSchedulerOptions, Urgency } from "../../src/core/request-scheduler.js";
import { ConfigError } from "../../src/core/errors.js";
import { TimerHeap } from "../../src/core/timer-heap.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { maxInWindow, seededRandom } from "../helpers/prng.js";

/** What afterEach checks: the scheduler, its timer heap and the fake clock of the running test. */
let env: { readonly scheduler: RequestScheduler; readonly heap: TimerHeap; readonly timers: () => number } | undefined;

function setup(options: Partial<RequestSchedulerOptions> = {}) {
  const time = fakeClock(0);
  const heap = new TimerHeap(time.clock);
  const scheduler = new RequestScheduler(time.clock, heap, { maxInFlight: 1_000_000, maxRequestsPerSecond: 10, burst: 1, ...options });
  /** Grant times (ms since the start) of turns by label. */
  const granted: { readonly label: string; readonly at: number }[] = [];
  /** Queues a turn that records its grant and, unless `hold`, releases its slot at once. */
  const turn = (label: string, urgency: Urgency = Urgency.ROUTINE, dueAt = time.clock.now(), hold = false): QueuedTurn =>
    scheduler.enqueue(urgency, dueAt, () => {
      granted.push({ label, at: time.clock.now() });
      if (!hold) scheduler.release();
    });
  env = { scheduler, heap, timers: time.timers };
  return { ...time, heap, scheduler, granted, turn, labels: () => granted.map((g) => g.label), times: () => granted.map((g) => g.at) };
}

afterEach(() => {
  // Every test drains or clears its queue: nothing may be left waiting, and no timer.
  if (env !== undefined) {
    expect(env.scheduler.waiting).toBe(0);
    expect(env.heap.size).toBe(0);
    expect(env.timers()).toBe(0);
  }
  env = undefined;
});

/** GCRA grant times of `count` turns queued at once at 0: `burst` back to back, then one per interval. */
function gcraTimes(count: number, intervalMs: number, burst: number): number[] {
  return Array.from({ length: count }, (_, i) => (i < burst ? 0 : (i - burst + 1) * intervalMs));
}

describe("rate (GCRA)", () => {
  it.each([
    { rate: 10, burst: 1 },
    { rate: 10, burst: 3 },
    { rate: 50, burst: 1 },
    { rate: 100, burst: 5 },
    { rate: 1_000, burst: 50 },
  ])("$rate/s with burst $burst: turns queued at once start at exactly the GCRA times", async ({ rate, burst }) => {
    const t = setup({ maxRequestsPerSecond: rate, burst });
    const count = burst + 20;
    for (let i = 0; i < count; i++) t.turn(`r${i}`);
    // The burst is granted inside enqueue, before any time passes.
    expect(t.granted).toHaveLength(burst);
    expect(t.scheduler.waiting).toBe(count - burst);
    await t.tick(30_000);
    expect(t.times()).toEqual(gcraTimes(count, 1000 / rate, burst));
    expect(t.labels()).toEqual(Array.from({ length: count }, (_, i) => `r${i}`));
    expect(t.scheduler.started).toBe(count);
  });

  it("after an idle spell the burst is available again, and only the burst", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 3 });
    for (let i = 0; i < 6; i++) t.turn(`a${i}`);
    await t.tick(10_000);
    expect(t.times()).toEqual([0, 0, 0, 100, 200, 300]);
    // 10 s later the bucket is full: three back to back, then 100 ms apart.
    for (let i = 0; i < 5; i++) t.turn(`b${i}`);
    await t.tick(1_000);
    expect(t.times().slice(6)).toEqual([10_000, 10_000, 10_000, 10_100, 10_200]);
  });

  it("a rate whose interval is not a whole millisecond is still achieved over a long run", async () => {
    // 30/s is an interval of 33.33 ms; timers have whole milliseconds, so each wake rounds up. The
    // rounding must not accumulate: 301 turns take 300 intervals (10 s), not 300 × 34 ms. Each grant
    // comes at its exact GCRA time rounded up (one more millisecond allowed for float error).
    const t = setup({ maxRequestsPerSecond: 30, burst: 1 });
    for (let i = 0; i < 301; i++) t.turn(`r${i}`);
    await t.tick(20_000);
    expect(t.granted).toHaveLength(301);
    const late = t.times().map((at, i) => at - (i * 1000) / 30);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...late)).toBeLessThanOrEqual(2);
    expect(t.times().at(-1)).toBeLessThanOrEqual(10_001);
    // The documented bound, W / interval + burst.
    expect(maxInWindow(t.times(), 1_000)).toBeLessThanOrEqual(30 + 1);
    expect(maxInWindow(t.times(), 10_000)).toBeLessThanOrEqual(300 + 1);
  });

  it("with random arrivals over ten minutes, no 10 s window holds more than 1.01 × rate × 10 starts", async () => {
    const rate = 100;
    const burst = 5;
    const t = setup({ maxRequestsPerSecond: rate, burst, maxInFlight: 64 });
    const random = seededRandom(20_261_129);
    const durationMs = 600_000;
    // Phases of 5 s, each idle, under the rate or well over it, so the queue fills, drains and idles.
    let arrivals = 0;
    for (let phase = 0; phase < durationMs; phase += 5_000) {
      const load = [0, 0.5, 3][Math.floor(random() * 3)] as number;
      const meanGapMs = load === 0 ? Number.POSITIVE_INFINITY : 1000 / (rate * load);
      for (let at = phase - meanGapMs * Math.log(1 - random()); at < phase + 5_000; at -= meanGapMs * Math.log(1 - random())) {
        const urgency = Math.floor(random() * 4) as Urgency;
        const holdMs = Math.floor(random() * 300);
        arrivals++;
        t.heap.at(Math.floor(at), () => {
          t.scheduler.enqueue(urgency, t.clock.now(), () => {
            t.granted.push({ label: "", at: t.clock.now() });
            t.heap.after(holdMs, () => t.scheduler.release());
          });
        });
      }
    }
    // Long enough for the last backlog to drain.
    await t.tick(durationMs + 120_000);
    expect(t.granted).toHaveLength(arrivals);
    const times = t.times();
    // The documented bound is W / interval + burst; the target is 1 % over the rate.
    expect(maxInWindow(times, 10_000)).toBeLessThanOrEqual(Math.min(rate * 10 + burst, 1.01 * rate * 10));
    expect(maxInWindow(times, 1_000)).toBeLessThanOrEqual(rate + burst);
    // Not vacuous: when backlogged the budget is used to the full.
    expect(maxInWindow(times, 10_000)).toBeGreaterThanOrEqual(rate * 10);
    expect(t.scheduler.inFlight).toBe(0);
  });
});

describe("requests in flight", () => {
  it("grants wait for a release once maxInFlight are out", async () => {
    const t = setup({ maxInFlight: 2, maxRequestsPerSecond: Number.POSITIVE_INFINITY, burst: 1 });
    for (let i = 0; i < 5; i++) t.turn(`r${i}`, Urgency.ROUTINE, t.clock.now(), true);
    expect(t.labels()).toEqual(["r0", "r1"]);
    expect(t.scheduler.inFlight).toBe(2);
    expect(t.scheduler.waiting).toBe(3);
    // No timer while blocked on slots: only a release can help.
    expect(t.heap.size).toBe(0);
    await t.tick(5_000);
    expect(t.granted).toHaveLength(2);
    t.scheduler.release();
    expect(t.granted.at(-1)).toEqual({ label: "r2", at: 5_000 });
    await t.tick(1_000);
    t.scheduler.release();
    t.scheduler.release();
    expect(t.granted.slice(3)).toEqual([
      { label: "r3", at: 6_000 },
      { label: "r4", at: 6_000 },
    ]);
    expect(t.scheduler.inFlight).toBe(2);
    t.scheduler.release();
    t.scheduler.release();
    expect(t.scheduler.inFlight).toBe(0);
  });

  it("a released slot still waits for the rate", async () => {
    const t = setup({ maxInFlight: 1, maxRequestsPerSecond: 10, burst: 1 });
    t.turn("a", Urgency.ROUTINE, 0, true);
    t.turn("b", Urgency.ROUTINE, 0, true);
    t.scheduler.release();
    // Slot free at 0, but the next start is due at 100.
    expect(t.labels()).toEqual(["a"]);
    await t.tick(100);
    expect(t.granted).toEqual([
      { label: "a", at: 0 },
      { label: "b", at: 100 },
    ]);
    t.scheduler.release();
  });
});

describe("pause after a 429", () => {
  it("holds everything until then, then resumes at the rate", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    for (let i = 0; i < 3; i++) t.turn(`a${i}`);
    await t.tick(150);
    expect(t.times()).toEqual([0, 100]);
    t.scheduler.pauseUntil(5_000);
    expect(t.scheduler.pausedUntil).toBe(5_000);
    // An earlier pause does not shorten it.
    t.scheduler.pauseUntil(1_000);
    expect(t.scheduler.pausedUntil).toBe(5_000);
    for (let i = 0; i < 3; i++) t.turn(`b${i}`, Urgency.FIRST_LOOK);
    await t.tick(4_849);
    expect(t.granted).toHaveLength(2);
    await t.tick(1_000);
    // New first looks go before the old routine one, all at the rate from the end of the pause.
    expect(t.granted.slice(2)).toEqual([
      { label: "b0", at: 5_000 },
      { label: "b1", at: 5_100 },
      { label: "b2", at: 5_200 },
      { label: "a2", at: 5_300 },
    ]);
  });

  it("after a pause the burst starts back to back, then the rate", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 3 });
    t.scheduler.pauseUntil(2_000);
    for (let i = 0; i < 6; i++) t.turn(`r${i}`);
    expect(t.granted).toHaveLength(0);
    await t.tick(3_000);
    expect(t.times()).toEqual([2_000, 2_000, 2_000, 2_100, 2_200, 2_300]);
  });

  it("a longer pause during a pause extends it", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.scheduler.pauseUntil(1_000);
    t.turn("r");
    await t.tick(500);
    t.scheduler.pauseUntil(3_000);
    await t.tick(3_000);
    expect(t.times()).toEqual([3_000]);
  });
});

describe("order", () => {
  it("grants by urgency: first look, prompted, retry, routine", async () => {
    const t = setup({ maxInFlight: 1, maxRequestsPerSecond: Number.POSITIVE_INFINITY });
    t.turn("holder", Urgency.ROUTINE, 0, true);
    t.turn("routine", Urgency.ROUTINE);
    t.turn("retry", Urgency.RETRY);
    t.turn("prompted", Urgency.PROMPTED);
    t.turn("first", Urgency.FIRST_LOOK);
    t.scheduler.release();
    await t.tick(0);
    expect(t.labels()).toEqual(["holder", "first", "prompted", "retry", "routine"]);
  });

  it("a new room's first look queued behind 1,000 routine turns is granted next", async () => {
    const t = setup({ maxRequestsPerSecond: 100, burst: 1 });
    for (let i = 0; i < 1_000; i++) t.turn(`old${i}`, Urgency.ROUTINE);
    await t.tick(1_234);
    // 0, 10, ..., 1230: 124 granted so far; the next slot is at 1240.
    expect(t.granted).toHaveLength(124);
    t.turn("new", Urgency.FIRST_LOOK);
    await t.tick(5);
    expect(t.granted).toHaveLength(124);
    await t.tick(1);
    expect(t.granted.at(-1)).toEqual({ label: "new", at: 1_240 });
    await t.tick(10_000);
    expect(t.granted).toHaveLength(1_001);
  });

  it("earlier dueAt first within an urgency, then the order of arrival", () => {
    const t = setup({ maxInFlight: 1, maxRequestsPerSecond: Number.POSITIVE_INFINITY });
    t.turn("holder", Urgency.ROUTINE, 0, true);
    t.turn("due300", Urgency.ROUTINE, 300);
    t.turn("due100", Urgency.ROUTINE, 100);
    t.turn("due200a", Urgency.ROUTINE, 200);
    t.turn("due200b", Urgency.ROUTINE, 200);
    t.turn("retry999", Urgency.RETRY, 999);
    t.scheduler.release();
    expect(t.labels()).toEqual(["holder", "retry999", "due100", "due200a", "due200b", "due300"]);
  });
});

describe("cancel, abort, clear", () => {
  it("a cancelled turn is never granted; cancelling the last leaves no timer", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.turn("first");
    const a = t.turn("a");
    const b = t.turn("b");
    const c = t.turn("c");
    expect(t.heap.size).toBe(1);
    t.scheduler.cancel(b);
    t.scheduler.cancel(b);
    expect(t.scheduler.waiting).toBe(2);
    await t.tick(100);
    expect(t.labels()).toEqual(["first", "a"]);
    t.scheduler.cancel(a); // granted already: nothing happens
    expect(t.scheduler.waiting).toBe(1);
    t.scheduler.cancel(c);
    expect(t.scheduler.waiting).toBe(0);
    expect(t.heap.size).toBe(0);
    expect(t.timers()).toBe(0);
    await t.tick(1_000);
    expect(t.labels()).toEqual(["first", "a"]);
  });

  it("acquire resolves when granted; the caller releases", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.turn("first");
    const order: string[] = [];
    const acquired = t.scheduler.acquire(Urgency.RETRY, new AbortController().signal).then(() => order.push(`acquired@${t.clock.now()}`));
    await t.tick(99);
    expect(order).toEqual([]);
    await t.tick(1);
    await acquired;
    expect(order).toEqual(["acquired@100"]);
    expect(t.scheduler.inFlight).toBe(1);
    t.scheduler.release();
  });

  it("acquire leaves no listener on the signal once granted, at once or later (a look retrying many times)", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      // The first is granted inside acquire (the budget has room); the rest wait for the rate.
      await Promise.all([t.scheduler.acquire(Urgency.RETRY, signal), t.tick(100)]);
      t.scheduler.release();
    }
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("acquire aborted while waiting rejects with the reason and leaves no queued entry or timer", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.turn("first");
    const controller = new AbortController();
    const acquired = t.scheduler.acquire(Urgency.RETRY, controller.signal);
    expect(t.scheduler.waiting).toBe(1);
    expect(t.heap.size).toBe(1);
    const reason = new Error("caller left");
    controller.abort(reason);
    await expect(acquired).rejects.toBe(reason);
    expect(t.scheduler.waiting).toBe(0);
    expect(t.heap.size).toBe(0);
    expect(t.timers()).toBe(0);
    // The slot it would have had goes to the next turn, on time.
    t.turn("next");
    await t.tick(100);
    expect(t.granted.at(-1)).toEqual({ label: "next", at: 100 });
    expect(t.scheduler.inFlight).toBe(0);
  });

  it("acquire with an aborted signal rejects at once without queueing", async () => {
    const t = setup();
    const reason = new Error("already gone");
    await expect(t.scheduler.acquire(Urgency.RETRY, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(t.scheduler.started).toBe(0);
    expect(t.scheduler.waiting).toBe(0);
  });

  it("clear drops every queued turn and the wake timer", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    for (let i = 0; i < 10; i++) t.turn(`r${i}`);
    await t.tick(250);
    expect(t.labels()).toEqual(["r0", "r1", "r2"]);
    t.scheduler.clear();
    expect(t.scheduler.waiting).toBe(0);
    expect(t.heap.size).toBe(0);
    expect(t.timers()).toBe(0);
    await t.tick(5_000);
    expect(t.granted).toHaveLength(3);
    // Still usable afterwards, at the rate.
    t.turn("after");
    expect(t.granted.at(-1)).toEqual({ label: "after", at: 5_250 });
  });
});

describe("looks nobody vouched for (turns with a tenant)", () => {
  /** Queues a turn of `tenant` (undefined: a vouched turn) that records its grant and releases at once unless `hold`. */
  function tenantTurn(t: ReturnType<typeof setup>, label: string, tenant: string | undefined, hold = false): QueuedTurn {
    return t.scheduler.enqueue(
      Urgency.FIRST_LOOK,
      t.clock.now(),
      () => {
        t.granted.push({ label, at: t.clock.now() });
        if (!hold) t.scheduler.release(tenant);
      },
      tenant,
    );
  }

  it("go after every vouched turn, whatever their urgency and however long they waited", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.turn("first");
    for (let i = 0; i < 3; i++) tenantTurn(t, `ghost${i}`, "attacker");
    await t.tick(50);
    t.turn("routine", Urgency.ROUTINE);
    await t.tick(10_000);
    expect(t.labels()).toEqual(["first", "routine", "ghost0", "ghost1", "ghost2"]);
  });

  it("still get a floor of half their share while vouched turns keep the fleet busy: a new room's first look is never starved", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    for (let i = 0; i < 20; i++) t.turn(`seen${i}`, Urgency.ROUTINE);
    for (let i = 0; i < 3; i++) tenantTurn(t, `ghost${i}`, "newcomer");
    await t.tick(10_000);
    // One start every 100 ms; half the share of 0.5 is one in four: a ghost every 400 ms once they wait.
    const labels = t.labels();
    expect(labels.slice(0, 4)).toEqual(["seen0", "seen1", "seen2", "seen3"]);
    expect(labels.indexOf("ghost0")).toBe(4);
    expect(labels.indexOf("ghost1")).toBe(8);
    expect(labels.indexOf("ghost2")).toBe(12);
    expect(labels).toHaveLength(23);
  });

  it.each([
    { share: 0.5, rate: 10, intervalMs: 200 },
    { share: 0.25, rate: 20, intervalMs: 200 },
    { share: 1, rate: 10, intervalMs: 100 },
  ])("take at most their share of the rate ($share of $rate/s: one per $intervalMs ms)", async ({ share, rate, intervalMs }) => {
    const t = setup({ maxRequestsPerSecond: rate, burst: 1, unseenShare: share });
    for (let i = 0; i < 5; i++) tenantTurn(t, `g${i}`, "attacker");
    await t.tick(10_000);
    expect(t.times()).toEqual([0, 1, 2, 3, 4].map((i) => i * intervalMs));
  });

  it("take at most their share of the requests in flight, leaving the rest to vouched turns", () => {
    const t = setup({ maxRequestsPerSecond: Infinity, maxInFlight: 4, unseenShare: 0.5 });
    for (let i = 0; i < 4; i++) tenantTurn(t, `g${i}`, "attacker", true);
    expect(t.labels()).toEqual(["g0", "g1"]);
    t.turn("a", Urgency.ROUTINE, t.clock.now(), true);
    t.turn("b", Urgency.ROUTINE, t.clock.now(), true);
    expect(t.labels()).toEqual(["g0", "g1", "a", "b"]);
    expect(t.scheduler.inFlight).toBe(4);
    t.scheduler.release("attacker");
    expect(t.labels()).toEqual(["g0", "g1", "a", "b", "g2"]);
    t.scheduler.clear();
  });

  it("are shared between tenants: the one served least goes first, a newcomer with one turn is not queued behind a thousand", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1, unseenShare: 1 });
    for (let i = 0; i < 1_000; i++) tenantTurn(t, `a${i}`, "attacker");
    for (let i = 0; i < 3; i++) tenantTurn(t, `b${i}`, "other");
    await t.tick(300);
    tenantTurn(t, "player", "player");
    await t.tick(500);
    // a0 at once, then the tenants alternate; the player, arriving at 300 ms level with the least served,
    // and with the fewest waiting, is next at 400 ms.
    expect(t.labels()).toEqual(["a0", "b0", "a1", "b1", "player", "a2", "b2", "a3", "a4"]);
    expect(t.scheduler.waitingUnseen).toBe(1_000 - 5);
    t.scheduler.clear();
    expect(t.scheduler.waitingUnseen).toBe(0);
  });

  it("a cancelled or aborted turn with a tenant leaves nothing queued", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    t.turn("first");
    const queued = tenantTurn(t, "ghost", "attacker");
    t.scheduler.cancel(queued);
    const controller = new AbortController();
    const acquired = t.scheduler.acquire(Urgency.RETRY, controller.signal, "attacker");
    controller.abort(new Error("gone"));
    await expect(acquired).rejects.toThrow("gone");
    await t.tick(1_000);
    expect(t.labels()).toEqual(["first"]);
    expect(t.scheduler.waitingUnseen).toBe(0);
  });

  it("refuses a share outside (0, 1]", () => {
    const time = fakeClock(0);
    for (const unseenShare of [0, -1, 1.5, Number.NaN]) {
      expect(() => new RequestScheduler(time.clock, new TimerHeap(time.clock), { maxInFlight: 1, maxRequestsPerSecond: 1, burst: 1, unseenShare })).toThrow(/unseenShare must be in \(0, 1\]/);
    }
  });
});

describe("budgets within the budget (a source's own lane)", () => {
  /** Queues a turn in `lane` (undefined: the fleet's own) that records its grant under `label` and releases at once. */
  function laneTurn(t: ReturnType<typeof setup>, label: string, lane: BudgetLane | undefined, urgency: Urgency = Urgency.ROUTINE, tenant?: string): QueuedTurn {
    return t.scheduler.enqueue(
      urgency,
      t.clock.now(),
      () => {
        t.granted.push({ label, at: t.clock.now() });
        t.scheduler.release(tenant);
      },
      tenant,
      lane,
    );
  }
  const timesOf = (t: ReturnType<typeof setup>, prefix: string): number[] => t.granted.filter((g) => g.label.startsWith(prefix)).map((g) => g.at);

  it("a lane of 16/s in a fleet of 100/s: each of its grants waits its interval (62.5 ms) up to the fleet's next slot, and the fleet's own turns take every other slot", async () => {
    const t = setup({ maxRequestsPerSecond: 100, burst: 1 });
    const edgegap = t.scheduler.lane({ key: "edgegap-org", maxRequestsPerSecond: 16 });
    // Due together, in turns: demand far over both budgets.
    for (let i = 0; i < 400; i++) {
      laneTurn(t, `e${i}`, edgegap);
      laneTurn(t, `h${i}`, undefined);
      laneTurn(t, `h${i}b`, undefined);
      laneTurn(t, `h${i}c`, undefined);
    }
    await t.tick(10_000);
    const all = t.times();
    const e = timesOf(t, "e");
    // The fleet's rate holds over both lanes: one start every 10 ms, none missed.
    expect(all).toEqual(Array.from({ length: 1_001 }, (_, i) => i * 10));
    // The lane's: 62.5 ms apart, each on the fleet's next 10 ms slot from then (the GCRA's fractional times
    // are kept: 62.5 rounds up to 70, then 70 + 62.5 = 132.5 to 140, ...).
    const gaps = e.slice(1).map((at, i) => at - e[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(62.5);
    expect(Math.max(...gaps)).toBeLessThan(62.5 + 10);
    expect(e.slice(0, 5)).toEqual([0, 70, 140, 210, 280]);
    // Never more than the lane's rate and burst in any second, and its budget used to the full: 16/s at the
    // fleet's 10 ms granularity is 10 ms late per grant at worst, so about 14 of every 16.
    expect(maxInWindow(e, 1_000)).toBeLessThanOrEqual(16 + 1);
    expect(e.length).toBeGreaterThanOrEqual(140);
    // The fleet's own turns used every slot the lane did not.
    expect(timesOf(t, "h")).toHaveLength(1_001 - e.length);
    t.scheduler.clear();
  });

  it("a lane held back by its rate never holds up the others: a fleet turn queued behind it goes at once", () => {
    const t = setup({ maxRequestsPerSecond: Number.POSITIVE_INFINITY });
    const lane = t.scheduler.lane({ key: "slow", maxRequestsPerSecond: 1 });
    laneTurn(t, "slow0", lane, Urgency.FIRST_LOOK);
    laneTurn(t, "slow1", lane, Urgency.FIRST_LOOK);
    laneTurn(t, "fleet0", undefined, Urgency.ROUTINE);
    laneTurn(t, "fleet1", undefined, Urgency.ROUTINE);
    expect(t.labels()).toEqual(["slow0", "fleet0", "fleet1"]);
    expect(t.heap.size).toBe(1);
    t.scheduler.clear();
  });

  it("the turn waiting longest goes first across lanes once its lane allows it", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    const lane = t.scheduler.lane({ key: "org", maxRequestsPerSecond: 5, burst: 1 });
    laneTurn(t, "x0", lane);
    laneTurn(t, "x1", lane);
    await t.tick(150);
    // x1's lane holds it until 200: a fleet turn due at 150 takes the fleet's free slot then and there. The
    // fleet's next slot (250) comes after x1's lane allows it, and x1, waiting since 0, goes before f1.
    laneTurn(t, "f0", undefined);
    laneTurn(t, "f1", undefined);
    await t.tick(1_000);
    expect(t.granted).toEqual([
      { label: "x0", at: 0 },
      { label: "f0", at: 150 },
      { label: "x1", at: 250 },
      { label: "f1", at: 350 },
    ]);
  });

  it("a 429 pauses its own lane only: the fleet's turns go on, and the fleet's pause holds none of the lane's", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    const lane = t.scheduler.lane({ key: "org", maxRequestsPerSecond: 10 });
    expect(t.scheduler.pauseUntil(1_000, lane)).toBe(true);
    expect(lane.pausedUntil).toBe(1_000);
    expect(t.scheduler.pausedUntil).toBe(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < 3; i++) laneTurn(t, `lane${i}`, lane);
    for (let i = 0; i < 3; i++) laneTurn(t, `fleet${i}`, undefined);
    await t.tick(999);
    expect(t.granted).toEqual([
      { label: "fleet0", at: 0 },
      { label: "fleet1", at: 100 },
      { label: "fleet2", at: 200 },
    ]);
    await t.tick(1);
    // From the end of the pause at the lane's rate, its turns first (waiting since 0).
    t.scheduler.pauseUntil(5_000);
    laneTurn(t, "fleet3", undefined);
    await t.tick(1_000);
    expect(t.granted.slice(3)).toEqual([
      { label: "lane0", at: 1_000 },
      { label: "lane1", at: 1_100 },
      { label: "lane2", at: 1_200 },
    ]);
    await t.tick(4_000);
    expect(t.granted.at(-1)).toEqual({ label: "fleet3", at: 5_000 });
    expect(lane.started).toBe(3);
  });

  it("sources naming one key share one lane, at the strictest rate any of them declares", async () => {
    const t = setup({ maxRequestsPerSecond: 100, burst: 1 });
    const a = t.scheduler.lane({ key: "edgegap-status:org-1", maxRequestsPerSecond: 16 });
    const b = t.scheduler.lane({ key: "edgegap-status:org-1", maxRequestsPerSecond: 8 });
    const other = t.scheduler.lane({ key: "edgegap-status:org-2", maxRequestsPerSecond: 16 });
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    expect(a.maxRequestsPerSecond).toBe(8);
    expect(t.scheduler.lanes.map((l) => l.key)).toEqual([undefined, "edgegap-status:org-1", "edgegap-status:org-2"]);
    for (let i = 0; i < 5; i++) laneTurn(t, `a${i}`, i % 2 === 0 ? a : b);
    await t.tick(1_000);
    expect(t.times()).toEqual([0, 125, 250, 375, 500]);
  });

  it("a lane's looks nobody vouched for take at most its slice of its rate, and their floor while the fleet's own turns keep it busy", async () => {
    const t = setup({ maxRequestsPerSecond: 10, burst: 1 });
    const lane = t.scheduler.lane({ key: "org", maxRequestsPerSecond: 4, burst: 1 });
    // Only never-seen looks in the lane: half of its 4/s, one every 500 ms.
    for (let i = 0; i < 3; i++) laneTurn(t, `ghost${i}`, lane, Urgency.FIRST_LOOK, "attacker");
    await t.tick(2_000);
    expect(t.times()).toEqual([0, 500, 1_000]);
    // Now vouched fleet turns saturate the fleet: the lane's never-seen looks still get their floor, half the
    // slice of the lane's rate (one a second), ahead of the fleet's turns.
    t.granted.length = 0;
    for (let i = 0; i < 40; i++) laneTurn(t, `seen${i}`, undefined);
    for (let i = 0; i < 3; i++) laneTurn(t, `new${i}`, lane, Urgency.FIRST_LOOK, "newcomer");
    await t.tick(4_000);
    const labels = t.labels();
    expect(labels.filter((l) => l.startsWith("new"))).toEqual(["new0", "new1", "new2"]);
    expect(timesOf(t, "new")).toEqual([3_000, 4_000, 5_000]);
    t.scheduler.clear();
  });

  it("refuses a budget that can never work, and a lane of another scheduler", () => {
    const t = setup();
    for (const budget of [
      { key: "", maxRequestsPerSecond: 1 },
      { key: "k", maxRequestsPerSecond: 0 },
      { key: "k", maxRequestsPerSecond: Number.NaN },
      { key: "k", maxRequestsPerSecond: 10, burst: 0 },
    ]) {
      expect(() => t.scheduler.lane(budget)).toThrow(ConfigError);
    }
    const time = fakeClock(0);
    const foreign = new RequestScheduler(time.clock, new TimerHeap(time.clock), { maxInFlight: 1, maxRequestsPerSecond: 1, burst: 1 }).lane({ key: "k", maxRequestsPerSecond: 1 });
    expect(() => t.scheduler.enqueue(Urgency.ROUTINE, 0, () => undefined, undefined, foreign)).toThrow(/another scheduler/);
  });
});
