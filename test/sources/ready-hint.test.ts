/**
 * sendReadyHint's retries: p-retry does the waiting (exponential, randomised, on the global timers,
 * faked here), and only transient failures are tried again. The gateway is a fetch stub answering from
 * a script, so each attempt is counted exactly.
 */
import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, HttpError } from "../../src/core/errors.js";
import { type ReadyHintOptions, sendReadyHint } from "../../src/sources/ready-hint.js";

let clock: ReturnType<typeof FakeTimers.install>;
beforeEach(() => {
  clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  expect(clock.countTimers()).toBe(0);
  clock.uninstall();
});

/** A gateway that answers each attempt with the next status of `statuses` (the last one repeats). */
function gatewayAnswering(...statuses: number[]) {
  const attempts: number[] = [];
  const fetch = (() => {
    attempts.push(clock.now);
    const status = statuses[Math.min(attempts.length - 1, statuses.length - 1)] ?? 202;
    return Promise.resolve(new Response(status === 202 ? null : JSON.stringify({ message: `status ${status}` }), { status }));
  }) as typeof globalThis.fetch;
  return { fetch, attempts };
}

const hint = (fetch: typeof globalThis.fetch, extra: Partial<ReadyHintOptions> = {}) =>
  sendReadyHint({ gatewayUrl: "ws://127.0.0.1:4100", roomId: "room-1", token: "hint-token", fetch, ...extra });

describe("sendReadyHint retries", () => {
  it("by default sends one request: a 503 rejects at once", async () => {
    const gateway = gatewayAnswering(503);
    await expect(hint(gateway.fetch)).rejects.toMatchObject({ status: 503 });
    expect(gateway.attempts).toEqual([0]);
  });

  it("retries a 503 after p-retry's first wait (200 to 400 ms, randomised), and resolves on the 202", async () => {
    const gateway = gatewayAnswering(503, 202);
    const sent = hint(gateway.fetch, { retries: 2 });
    await clock.tickAsync(199);
    expect(gateway.attempts).toEqual([0]);
    await clock.tickAsync(201);
    await expect(sent).resolves.toBeUndefined();
    expect(gateway.attempts).toHaveLength(2);
    expect(gateway.attempts[1]).toBeGreaterThanOrEqual(200);
  });

  it("does not retry a refusal that would repeat (401)", async () => {
    const gateway = gatewayAnswering(401, 202);
    await expect(hint(gateway.fetch, { retries: 3 })).rejects.toBeInstanceOf(HttpError);
    expect(gateway.attempts).toEqual([0]);
  });

  it("rejects with the last error once the retries are spent: 1 + retries attempts", async () => {
    const gateway = gatewayAnswering(503);
    const sent = hint(gateway.fetch, { retries: 2, initialRetryDelayMs: 100 });
    const settled = expect(sent).rejects.toMatchObject({ status: 503, apiMessage: "status 503" });
    await clock.tickAsync(10_000);
    await settled;
    expect(gateway.attempts).toHaveLength(3);
  });

  it("an abort during the wait rejects with the signal's reason and leaves no timer", async () => {
    const gateway = gatewayAnswering(503);
    const controller = new AbortController();
    const sent = hint(gateway.fetch, { retries: 5, signal: controller.signal });
    await clock.tickAsync(50);
    const reason = new Error("the server is shutting down");
    controller.abort(reason);
    await expect(sent).rejects.toBe(reason);
    expect(gateway.attempts).toEqual([0]);
  });

  it("refuses retries that are not a non-negative integer", async () => {
    await expect(hint(gatewayAnswering(202).fetch, { retries: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(hint(gatewayAnswering(202).fetch, { retries: 1.5 })).rejects.toBeInstanceOf(ConfigError);
  });
});
