/**
 * The lapse watch of the leases, on a fake clock: a follower told how long another instance's lease has
 * left claims the moment it lapses (one millisecond after), re-arms when a later claim finds the lease
 * renewed, moves earlier when told of an earlier lapse, and leaves no timer once forgotten. Claims in
 * one turn leave together, and a claim asked for while one is on its way is marked `again`.
 */
import { describe, expect, it } from "vitest";
import { TimerHeap } from "../../../src/core/timer-heap.js";
import { silentLogger } from "../../../src/gateway/logging.js";
import { type Claimant, RoomLeases } from "../../../src/gateway/redis/leases.js";
import { RedisLink } from "../../../src/gateway/redis/link.js";
import { RedisNames, resolveRedisOptions } from "../../../src/gateway/redis/options.js";
import { fakeClock } from "../../helpers/fake-clock.js";

function leases() {
  const time = fakeClock();
  const timers = new TimerHeap(time.clock);
  const redis = resolveRedisOptions({ url: "redis://127.0.0.1:1", leaseTtlMs: 3_000, instanceId: "me" });
  const lapsed: Array<{ roomId: string; at: number }> = [];
  const rounds: number[] = [];
  const current = new Set<Claimant>();
  // Never connected: claims that leave find no Redis and fall back to idle, as while Redis is down.
  const link = new RedisLink({ redis, timers, clock: time.clock, logger: silentLogger, random: () => 0.5, onUp: () => {}, onDown: () => {}, onMessage: () => {} });
  const subject = new RoomLeases<Claimant>({
    names: new RedisNames(redis.keyPrefix, "upstream"),
    instanceId: "me",
    leaseTtlMs: 3_000,
    stateTtlMs: 9_000,
    link,
    timers,
    clock: time.clock,
    random: () => 0.5,
    logger: silentLogger,
    track: () => {},
    active: () => true,
    current: (claimant) => current.has(claimant),
    payload: () => ({ seq: 0, fingerprint: "", snapshot: "" }),
    onClaimed: () => {},
    onRound: () => rounds.push(time.elapsed()),
    onLapse: (claimant) => lapsed.push({ roomId: claimant.roomId, at: time.elapsed() }),
  });
  const claimant = (roomId: string): Claimant => {
    const c: Claimant = { roomId, claim: "idle", lapse: undefined };
    current.add(c);
    return c;
  };
  return { time, subject, lapsed, rounds, claimant, current };
}

describe("RoomLeases: the lapse watch", () => {
  it("claims one millisecond after the lease lapses", async () => {
    const { time, subject, lapsed, claimant } = leases();
    subject.watchLapse(claimant("a"), 1_000);
    await time.tick(1_000);
    expect(lapsed).toEqual([]);
    await time.tick(1);
    expect(lapsed).toEqual([{ roomId: "a", at: 1_001 }]);
    expect(time.timers()).toBe(0);
  });

  it("a renewed lease re-arms the one timer as it fires; an earlier lapse moves it forward", async () => {
    const { time, subject, lapsed, claimant } = leases();
    const a = claimant("a");
    subject.watchLapse(a, 1_000);
    await time.tick(500);
    subject.watchLapse(a, 2_000); // renewed: now lapses at 2,501
    expect(time.timers()).toBe(1);
    await time.tick(600);
    expect(lapsed).toEqual([]);
    expect(time.timers()).toBe(1);
    subject.watchLapse(a, 100); // told of an earlier lapse: 1,201
    await time.tick(100);
    expect(lapsed).toEqual([]);
    await time.tick(1);
    expect(lapsed).toEqual([{ roomId: "a", at: 1_201 }]);
    expect(time.timers()).toBe(0);
  });

  it("a forgotten watch, or a claimant no longer current, never claims and leaves no timer", async () => {
    const { time, subject, lapsed, claimant, current } = leases();
    const a = claimant("a");
    const b = claimant("b");
    subject.watchLapse(a, 1_000);
    subject.watchLapse(b, 1_000);
    subject.forgetLapse(a);
    expect(a.lapse).toBeUndefined();
    current.delete(b);
    await time.tick(5_000);
    expect(lapsed).toEqual([]);
    expect(time.timers()).toBe(0);
  });

  it("claims in one turn leave together; one asked for while another is on its way is marked again; with no Redis they fall back to idle", async () => {
    const { subject, claimant } = leases();
    const a = claimant("a");
    const b = claimant("b");
    subject.claim(a);
    subject.claim(b);
    subject.claim(a);
    expect([a.claim, b.claim, subject.queued]).toEqual(["again", "sent", 2]);
    await Promise.resolve();
    expect([a.claim, b.claim, subject.queued]).toEqual(["idle", "idle", 0]);
  });

  it("rounds every third of the lease TTL (jitter pinned to the middle) until stopped", async () => {
    const { time, subject, rounds } = leases();
    subject.startRounds();
    await time.tick(3_000);
    expect(rounds).toEqual([1_000, 2_000, 3_000]);
    subject.stopRounds();
    await time.tick(3_000);
    expect(rounds).toHaveLength(3);
    expect(time.timers()).toBe(0);
  });
});
