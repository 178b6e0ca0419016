/**
 * A source's own request budget inside a fleet's, on a fake clock: Edgegap deployments (their budget as
 * EdgegapHttpSource declares it) beside Hathora rooms (no budget of their own) in one fleet of 100/s.
 * Edgegap never gets more than its budget in any second while the Hathora rooms use the rest; two sources
 * of one organisation share one budget; a 429 pauses the budget of the source that got it, and only that
 * one. Every test ends with no feed, timer or queued turn left.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RateLimitedError } from "../../src/core/errors.js";
import { EdgegapHttpSource } from "../../src/providers/edgegap/http-source.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND, EDGEGAP_RATE_LIMITS } from "../../src/providers/edgegap/rate-limits.js";
import { Fleet, type PausedEvent } from "../../src/watch/fleet.js";
import { RoomWatcher } from "../../src/watch/room-watcher.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { maxInWindow } from "../helpers/prng.js";
import { ScriptedSource, starting, type Step } from "../helpers/scripted-source.js";

/** Looks as often as the floor allows: demand far above every budget, so the budgets alone set the rates. */
const EAGER = { pollIntervalMs: 100, maxPollIntervalMs: 100, jitter: 0, learn: false } as const;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Edgegap's budget as its source declares it (a source is cheap to make: it sends nothing until polled). */
function edgegapBudget(token: string, portName = "gameport") {
  return new EdgegapHttpSource({ token, portName }).budget;
}

/** `edgegapSteps`: what the first Edgegap source answers (the second is always starting). */
function mixedFleet(options: { edgegapRooms: number; hathoraRooms: number; edgegapSteps?: Step[] }) {
  const time = fakeClock(0);
  const now = () => time.clock.now();
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5, maxRequestsPerSecond: 100, burst: 1, ...EAGER });
  // Two sources of one organisation (one token, one API), reading different ports: one budget between them.
  const edgegap = [
    new ScriptedSource(options.edgegapSteps ?? [starting], now, "edgegap-game", edgegapBudget("org-token-1")),
    new ScriptedSource([starting], now, "edgegap-admin", edgegapBudget("org-token-1", "admin")),
  ];
  const hathora = new ScriptedSource([starting], now, "hathora");
  const watchers: RoomWatcher[] = [];
  for (let i = 0; i < options.edgegapRooms; i++) watchers.push(new RoomWatcher({ roomId: `edgegap${i}`, source: edgegap[i % 2]!, fleet }).start());
  for (let i = 0; i < options.hathoraRooms; i++) watchers.push(new RoomWatcher({ roomId: `hathora${i}`, source: hathora, fleet }).start());
  const paused: PausedEvent[] = [];
  fleet.on("paused", (e) => paused.push(e));
  const edgegapTimes = () => [...edgegap[0]!.calls, ...edgegap[1]!.calls].sort((a, b) => a - b);
  cleanup = async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await fleet.close();
    expect(fleet.size).toBe(0);
    expect(fleet.stats.queued).toBe(0);
    expect(fleet.timers.size).toBe(0);
    expect(time.timers()).toBe(0);
  };
  return { time, fleet, edgegap, hathora, edgegapTimes, paused };
}

describe("a source's own budget in a fleet of 100/s", () => {
  it("Edgegap's looks never pass its budget in any second, while the Hathora rooms use the rest of the fleet's", async () => {
    const f = mixedFleet({ edgegapRooms: 150, hathoraRooms: 150 });
    // One budget for both Edgegap sources: the organisation's.
    expect(f.edgegap[0]!.budget).toEqual(f.edgegap[1]!.budget);
    await f.time.tick(10_000);
    const edgegap = f.edgegapTimes();
    const all = [...edgegap, ...f.hathora.calls].sort((a, b) => a - b);
    // Both budgets hold in every window: Edgegap's 16/s (and one request of burst) under its limit of 20/s.
    expect(EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND).toBe(16);
    expect(maxInWindow(edgegap, 1_000)).toBeLessThanOrEqual(16 + 1);
    expect(maxInWindow(edgegap, 1_000)).toBeLessThanOrEqual(EDGEGAP_RATE_LIMITS.status);
    expect(maxInWindow(all, 1_000)).toBeLessThanOrEqual(100 + 1);
    // The scheduled delays: the fleet starts a look every 10 ms without a gap, and Edgegap's come at least
    // 62.5 ms apart and at most one fleet slot later.
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i * 10));
    expect(all.length).toBe(1_001);
    const edgegapGaps = edgegap.slice(1).map((at, i) => at - edgegap[i]!);
    expect(Math.min(...edgegapGaps)).toBeGreaterThanOrEqual(62.5);
    expect(Math.max(...edgegapGaps)).toBeLessThan(62.5 + 10);
    // Edgegap had its budget, and the Hathora rooms every slot it did not take.
    expect(edgegap.length).toBeGreaterThanOrEqual(140);
    expect(f.hathora.calls.length).toBe(all.length - edgegap.length);
    // Fair within Edgegap too: every deployment was looked at.
    expect(f.fleet.stats.rooms).toBe(300);
  });

  it("an Edgegap 429 pauses Edgegap's looks only: the Hathora rooms go on at the fleet's rate; a Hathora 429 pauses none of Edgegap's", async () => {
    const refused = new RateLimitedError(2_000, "Too Many Requests");
    const f = mixedFleet({ edgegapRooms: 2, hathoraRooms: 2, edgegapSteps: [refused, starting] });
    await f.time.tick(0);
    // The first Edgegap look was refused: Edgegap waits 2 s (its Retry-After), Hathora does not.
    expect(f.paused).toHaveLength(1);
    expect(f.paused[0]).toMatchObject({ roomId: "edgegap0", budget: f.edgegap[0]!.budget!.key, until: 2_000, at: 0 });
    await f.time.tick(1_999);
    expect(f.edgegapTimes()).toEqual([0]);
    // Hathora's two rooms every 100 ms meanwhile.
    expect(f.hathora.calls.filter((at) => at < 2_000)).toHaveLength(40);
    await f.time.tick(100);
    // From the end of the pause, at Edgegap's rate (62.5 ms apart, on the fleet's 10 ms slots): the other
    // deployment's first look (the more urgent), then the refused look's retry.
    expect(f.edgegapTimes()).toEqual([0, 2_000, 2_063]);
    expect(f.edgegap[1]!.calls).toEqual([2_000]);
    expect(f.edgegap[0]!.calls).toEqual([0, 2_063]);
    // Now Hathora refuses: its rooms wait 3 s, Edgegap's go on.
    f.hathora.script([new RateLimitedError(3_000, undefined), starting]);
    const hathoraBefore = f.hathora.calls.length;
    const edgegapBefore = f.edgegapTimes().length;
    await f.time.tick(100);
    expect(f.paused).toHaveLength(2);
    expect(f.paused[1]).toMatchObject({ budget: undefined });
    const until = f.paused[1]!.until;
    await f.time.tick(until - f.time.clock.now() - 1);
    expect(f.hathora.calls.length - hathoraBefore).toBe(1);
    // Edgegap's two deployments at its whole budget all the while: a look every 62.5 ms (on 10 ms slots).
    const during = f.edgegapTimes().slice(edgegapBefore);
    expect(during.length).toBeGreaterThanOrEqual(((until - f.paused[1]!.at) / 1000) * 16 - 1);
    expect(Math.max(...during.slice(1).map((at, i) => at - during[i]!))).toBeLessThan(62.5 + 10);
    await f.time.tick(1);
    expect(f.hathora.calls.at(-1)).toBe(until);
  });
});
