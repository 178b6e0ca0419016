import { describe, expect, it } from "vitest";
import { nextPollDelayMs, parseRetryAfterMs, rateLimitDelayMs, retryDelayMs } from "../../src/core/backoff.js";
import { DEFAULT_POLL_OPTIONS } from "../../src/watch/options.js";

const mid = () => 0.5;
const low = () => 0;
const high = () => 0.999_999;

describe("nextPollDelayMs", () => {
  it.each([
    [1, 500],
    [2, 750],
    [3, 1125],
    [4, 1688],
    [5, 2000],
    [20, 2000],
  ])("starting, look %i -> %i ms at the jitter midpoint", (looks, expected) => {
    expect(nextPollDelayMs("starting", looks, DEFAULT_POLL_OPTIONS, mid)).toBe(expected);
  });

  it("jitter stays within ±20% and never above the cap", () => {
    expect(nextPollDelayMs("starting", 1, DEFAULT_POLL_OPTIONS, low)).toBe(400);
    expect(nextPollDelayMs("starting", 1, DEFAULT_POLL_OPTIONS, high)).toBe(600);
    expect(nextPollDelayMs("starting", 50, DEFAULT_POLL_OPTIONS, high)).toBe(2000);
    expect(nextPollDelayMs("starting", 50, DEFAULT_POLL_OPTIONS, low)).toBe(1600);
  });

  it("active uses the slower cadence", () => {
    expect(nextPollDelayMs("active", 1, DEFAULT_POLL_OPTIONS, mid)).toBe(5000);
    expect(nextPollDelayMs("active", 9, DEFAULT_POLL_OPTIONS, low)).toBe(4000);
  });
});

describe("retryDelayMs", () => {
  it.each([
    [1, 250, 500],
    [2, 500, 1000],
    [3, 1000, 2000],
    [6, 7500, 15000],
    [60, 7500, 15000],
  ])("failure %i is within [%i, %i] ms", (failures, min, max) => {
    expect(retryDelayMs(failures, DEFAULT_POLL_OPTIONS, low)).toBe(min);
    expect(retryDelayMs(failures, DEFAULT_POLL_OPTIONS, high)).toBe(max);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-11-23T10:00:00Z");
  it.each([
    ["3", 3000],
    ["0", 0],
    ["1.5", 1500],
    [" 7 ", 7000],
    ["Mon, 23 Nov 2026 10:00:05 GMT", 5000],
    ["Mon, 23 Nov 2026 09:59:00 GMT", 0],
    ["Monday, 23-Nov-26 10:00:05 GMT", 5000],
    ["Mon Nov 23 10:00:05 2026", 5000],
    ["9".repeat(400), Number.MAX_SAFE_INTEGER],
    ["a 5", undefined],
    ["2026-11-23T10:00:05Z", undefined],
    ["soon", undefined],
    ["-1", undefined],
    ["", undefined],
    [null, undefined],
  ])("%j -> %j ms", (header, expected) => {
    expect(parseRetryAfterMs(header, now)).toBe(expected);
  });

  it("is honoured up to the cap, and falls back to backoff when absent", () => {
    expect(rateLimitDelayMs(3000, 1, DEFAULT_POLL_OPTIONS, mid)).toBe(3000);
    expect(rateLimitDelayMs(3_600_000, 1, DEFAULT_POLL_OPTIONS, mid)).toBe(60_000);
    expect(rateLimitDelayMs(undefined, 1, DEFAULT_POLL_OPTIONS, low)).toBe(250);
  });
});
