/**
 * A request's deadline: aborted by the caller (with the caller's reason) or by its timeout (with the
 * timeout's reason), and nothing left on the caller's signal or the clock once disposed, however many
 * requests one signal has seen: a look that retries for an hour keeps one listener, not thousands.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { requestDeadline } from "../../src/core/request-deadline.js";
import { RequestTimeoutError } from "../../src/core/errors.js";
import { HathoraHttpSource } from "../../src/providers/hathora/http-source.js";
import { fakeClock } from "../helpers/fake-clock.js";

const timeout = () => new RequestTimeoutError(1_000);

describe("requestDeadline", () => {
  it("aborts with the timeout's reason after timeoutMs, and says so", async () => {
    const time = fakeClock();
    const deadline = requestDeadline(new AbortController().signal, 1_000, time.clock, timeout);
    await time.tick(999);
    expect(deadline.signal.aborted).toBe(false);
    expect(() => deadline.throwIfAborted()).not.toThrow();
    await time.tick(1);
    expect(() => deadline.throwIfAborted()).toThrow(RequestTimeoutError);
    expect(deadline.signal.reason).toBeInstanceOf(RequestTimeoutError);
    deadline.dispose();
    expect(time.timers()).toBe(0);
  });

  it("aborts with the caller's reason when the caller aborts, already or later, and clears its timer on dispose", async () => {
    const time = fakeClock();
    const caller = new AbortController();
    const deadline = requestDeadline(caller.signal, 1_000, time.clock, timeout);
    const reason = new Error("caller gave up");
    caller.abort(reason);
    expect(deadline.signal.reason).toBe(reason);
    expect(() => deadline.throwIfAborted()).toThrow(reason);
    // The timeout passing before dispose() changes nothing: the caller's reason stands.
    await time.tick(1_000);
    expect(() => deadline.throwIfAborted()).toThrow(reason);
    expect(deadline.signal.reason).toBe(reason);
    deadline.dispose();
    expect(time.timers()).toBe(0);

    const already = requestDeadline(caller.signal, 1_000, time.clock, timeout);
    expect(already.signal.aborted).toBe(true);
    expect(time.timers()).toBe(1);
    already.dispose();
    expect(time.timers()).toBe(0);
  });

  it("leaves no listener on the caller's signal once disposed, after any number of requests", () => {
    const time = fakeClock();
    const caller = new AbortController();
    for (let i = 0; i < 1_000; i++) requestDeadline(caller.signal, 1_000, time.clock, timeout).dispose();
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    expect(time.timers()).toBe(0);
  });

  it("works without a caller signal (the timeout alone)", async () => {
    const time = fakeClock();
    const deadline = requestDeadline(undefined, 10, time.clock, timeout);
    await time.tick(10);
    expect(() => deadline.throwIfAborted()).toThrow(RequestTimeoutError);
    deadline.dispose();
  });
});

describe("HathoraHttpSource with one signal for many requests", () => {
  it("leaves nothing on the signal after 50 failed requests (a look retrying a long outage)", async () => {
    const source = new HathoraHttpSource({ appId: "app-1", baseUrl: "http://127.0.0.1:59", fetch: () => Promise.reject(new TypeError("fetch failed")) });
    const look = new AbortController();
    for (let i = 0; i < 50; i++) await expect(source.poll("room-1", { signal: look.signal })).rejects.toThrow("request failed");
    expect(getEventListeners(look.signal, "abort")).toHaveLength(0);
  });
});
