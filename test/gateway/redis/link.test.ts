/** The link to Redis, guarded on its phase: connect() once only; close() at any point, leaving no timer. */
import { describe, expect, it } from "vitest";
import { ClusterError, InvalidStateError } from "../../../src/core/errors.js";
import { TimerHeap } from "../../../src/core/timer-heap.js";
import { silentLogger } from "../../../src/gateway/logging.js";
import { RedisLink } from "../../../src/gateway/redis/link.js";
import { resolveRedisOptions } from "../../../src/gateway/redis/options.js";
import { fakeClock } from "../../helpers/fake-clock.js";

describe("RedisLink", () => {
  it("connect() once only: a second call rejects with InvalidStateError, and close() before connect() leaves nothing", async () => {
    const time = fakeClock();
    const timers = new TimerHeap(time.clock);
    const redis = resolveRedisOptions({ url: "redis://127.0.0.1:1", connectTimeoutMs: 2_000, instanceId: "me" });
    const link = new RedisLink({ redis, timers, clock: time.clock, logger: silentLogger, random: () => 0.5, onUp: () => {}, onDown: () => {}, onMessage: () => {} });
    const first = link.connect().catch((e: unknown) => e);
    await expect(link.connect()).rejects.toThrow(new InvalidStateError("connect() once only: the Redis link is connecting"));
    expect(await first).toBeInstanceOf(ClusterError);
    expect(link.state.phase).toBe("closed");
    await link.close();
    expect(time.timers()).toBe(0);

    const unused = new RedisLink({ redis, timers, clock: time.clock, logger: silentLogger, random: () => 0.5, onUp: () => {}, onDown: () => {}, onMessage: () => {} });
    await unused.close();
    expect(unused.state.phase).toBe("closed");
    await expect(unused.connect()).rejects.toThrow(InvalidStateError);
  });
});
