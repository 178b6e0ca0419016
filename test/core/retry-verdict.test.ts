import { describe, expect, it } from "vitest";
import { ConfigError, HttpError, InvalidPayloadError, NetworkError, RateLimitedError, RequestTimeoutError } from "../../src/core/errors.js";
import { classifyFailure, type RetryVerdict } from "../../src/core/retry-verdict.js";

const MAX_INVALID = 3;

describe("classifyFailure", () => {
  const table: ReadonlyArray<[what: string, error: unknown, invalidRun: number, kind: RetryVerdict["kind"], runAfter: number]> = [
    ["a network error", new NetworkError("refused"), 0, "retry", 0],
    ["a request timeout", new RequestTimeoutError(5_000), 0, "retry", 0],
    ["HTTP 503", new HttpError(503, undefined), 0, "retry", 0],
    ["HTTP 408", new HttpError(408, undefined), 0, "retry", 0],
    ["HTTP 429 with Retry-After", new RateLimitedError(2_000, undefined), 0, "rate_limited", 0],
    ["HTTP 429 without Retry-After", new RateLimitedError(undefined, undefined), 0, "rate_limited", 0],
    ["HTTP 401", new HttpError(401, "bad token"), 0, "give_up", 0],
    ["HTTP 404 as an error", new HttpError(404, undefined), 0, "give_up", 0],
    ["HTTP 422", new HttpError(422, undefined), 0, "give_up", 0],
    ["a ConfigError", new ConfigError("bad"), 0, "give_up", 0],
    ["an Error that is not ours (a source's bug)", new Error("bug"), 0, "give_up", 0],
    ["a TypeError (a source's bug)", new TypeError("x is not a function"), 0, "give_up", 0],
    ["a thrown string", "nope", 0, "give_up", 0],
    ["undefined", undefined, 0, "give_up", 0],
    ["a first invalid payload", new InvalidPayloadError("garbage"), 0, "retry", 1],
    ["a second invalid payload in a row", new InvalidPayloadError("garbage"), 1, "retry", 2],
    ["the third invalid payload in a row", new InvalidPayloadError("garbage"), 2, "give_up", 3],
    ["a network error after invalid payloads resets the run", new NetworkError("refused"), 2, "retry", 0],
    ["a 429 after invalid payloads resets the run", new RateLimitedError(undefined, undefined), 2, "rate_limited", 0],
    ["a terminal error leaves the run as it was", new HttpError(403, undefined), 2, "give_up", 2],
  ];
  it.each(table)("%s: %s", (_what, error, invalidRun, kind, runAfter) => {
    const verdict = classifyFailure(error, invalidRun, MAX_INVALID);
    expect(verdict.kind).toBe(kind);
    expect(verdict.invalidRun).toBe(runAfter);
    if (verdict.kind !== "give_up") expect(verdict.error).toBe(error);
  });

  it("gives up at the first invalid payload when one is the limit", () => {
    expect(classifyFailure(new InvalidPayloadError("garbage"), 0, 1)).toEqual({ kind: "give_up", invalidRun: 1 });
  });
});
