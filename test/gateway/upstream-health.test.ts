/**
 * The gateway's verdict on its upstream (pure): degraded while more than half of the latest 20
 * requests failed, with the last error; one warn line when the trouble starts, at most one more per
 * minute while it lasts, one when it ends.
 */
import { describe, expect, it } from "vitest";
import { HttpError, NetworkError, RateLimitedError } from "../../src/core/errors.js";
import type { UpstreamOutcome } from "../../src/gateway/metrics.js";
import { UPSTREAM_HEALTH_WINDOW, UPSTREAM_WARN_INTERVAL_MS, UpstreamHealth } from "../../src/gateway/upstream-health.js";
import { maxInWindow, seededRandom } from "../helpers/prng.js";

const refused = new NetworkError("request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9");

type Step = readonly [at: number, outcome: UpstreamOutcome, error?: unknown];

/** Feeds the steps; returns every notice as [at, message] and the verdict after the last step. */
function run(steps: readonly Step[], health = new UpstreamHealth()) {
  const notices: Array<[number, string]> = [];
  for (const [at, outcome, error] of steps) {
    const notice = health.record(outcome, error, at);
    if (notice !== undefined) notices.push([at, notice.message]);
  }
  return { notices, reason: health.reason, health };
}

const fails = (count: number, from = 0, everyMs = 1_000, error: unknown = refused): Step[] =>
  Array.from({ length: count }, (_, i) => [from + i * everyMs, "network", error] as const);
const oks = (count: number, from = 0, everyMs = 1_000, outcome: UpstreamOutcome = "ok"): Step[] =>
  Array.from({ length: count }, (_, i) => [from + i * everyMs, outcome] as const);

describe("UpstreamHealth verdict", () => {
  const cases: ReadonlyArray<readonly [label: string, steps: readonly Step[], reason: string | undefined]> = [
    ["no request yet", [], undefined],
    ["one failure (the start-up probe)", fails(1), "upstream: 100% of the last 1 request failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
    ["one failure, then one success", [...fails(1), ...oks(1, 1_000)], undefined],
    ["a 404 is an answer, not a failure", [...fails(1), ...oks(1, 1_000, 1_000, "not_found")], undefined],
    ["aborted requests say nothing", [...fails(1), ...Array.from({ length: 5 }, (_, i): Step => [1_000 + i, "aborted"])], "upstream: 100% of the last 1 request failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
    ["25 failures: the window is the last 20", fails(25), "upstream: 100% of the last 20 requests failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
    ["11 of the last 20 failed", [...oks(9), ...fails(11, 9_000)], "upstream: 55% of the last 20 requests failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
    ["10 of the last 20 failed: half is not most", [...oks(10), ...fails(10, 10_000)], undefined],
    ["20 failures, then 9 successes", [...fails(20), ...oks(9, 20_000)], "upstream: 55% of the last 20 requests failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
    ["20 failures, then 10 successes", [...fails(20), ...oks(10, 20_000)], undefined],
    ["429 and 5xx are failures; the last error is named", [[0, "rate_limited", new RateLimitedError(1_000, undefined)], [1, "http_error", new HttpError(502, "Bad Gateway")]], `upstream: 100% of the last 2 requests failed, last error: RW_HTTP ${new HttpError(502, "Bad Gateway").message}`],
    ["an error that is not ours: its name and message", [[0, "other", new TypeError("boom")]], "upstream: 100% of the last 1 request failed, last error: TypeError: boom"],
  ];
  it.each(cases)("%s", (_label, steps, reason) => {
    expect(run(steps).reason).toBe(reason);
  });

  it("cuts a long error to 300 characters", () => {
    const { reason } = run([[0, "network", new NetworkError("x".repeat(1_000))]]);
    expect(reason).toBe(`upstream: 100% of the last 1 request failed, last error: RW_NETWORK ${"x".repeat(300 - "RW_NETWORK ".length)}...`);
  });

  it("judges by a window of 20", () => {
    expect(UPSTREAM_HEALTH_WINDOW).toBe(20);
  });
});

describe("UpstreamHealth notices", () => {
  it("one line when the trouble starts, one per minute while it lasts (however many requests fail), one when it ends", () => {
    // A failure every 100 ms for 150 s: 1,500 failed requests.
    const { notices } = run([...fails(1_500, 0, 100), ...oks(10, 150_000)]);
    const reason = "upstream: 100% of the last 20 requests failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9";
    expect(notices).toEqual([
      [0, "upstream failing: upstream: 100% of the last 1 request failed, last error: RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9"],
      [UPSTREAM_WARN_INTERVAL_MS, `upstream failing: ${reason}`],
      [2 * UPSTREAM_WARN_INTERVAL_MS, `upstream failing: ${reason}`],
      // The tenth success brings failures to half the window: recovered.
      [150_000 + 9 * 1_000, "upstream recovered after 1500 failures"],
    ]);
    expect(UPSTREAM_WARN_INTERVAL_MS).toBe(60_000);
  });

  it("says nothing while most requests succeed, and counts the failures that tipped the balance", () => {
    const quiet = run([...oks(15), ...fails(5, 15_000)]);
    expect(quiet.notices).toEqual([]);
    // Five failures in the window, then six more: the eleventh of 20 tips it.
    const tipped = run(fails(6, 20_000), quiet.health);
    expect(tipped.notices).toEqual([[25_000, expect.stringMatching(/^upstream failing: upstream: 55% of the last 20 requests failed/)]]);
    // A window slides: the first nine successes push out the nine old ones, the tenth a failure.
    const recovered = run(oks(10, 26_000), tipped.health);
    expect(recovered.notices).toEqual([[35_000, "upstream recovered after 11 failures"]]);
  });

  it("an upstream flapping around the threshold logs at most one failing line a minute, and a recovery only after a trouble it announced", () => {
    // Half the requests fail, at random, one every 100 ms for ten minutes: the verdict flips often.
    const random = seededRandom(12);
    const health = new UpstreamHealth();
    const lines: Array<[number, string]> = [];
    let flips = 0;
    let degraded = false;
    for (let at = 0; at < 600_000; at += 100) {
      const notice = random() < 0.5 ? health.record("network", refused, at) : health.record("ok", undefined, at);
      if (notice !== undefined) lines.push([at, notice.message]);
      if ((health.reason !== undefined) !== degraded) {
        degraded = !degraded;
        flips++;
      }
    }
    const failing = lines.filter(([, m]) => m.startsWith("upstream failing"));
    expect(flips).toBeGreaterThan(100);
    expect(failing.length).toBeGreaterThan(1);
    expect(maxInWindow(failing.map(([at]) => at), UPSTREAM_WARN_INTERVAL_MS)).toBe(1);
    // Every recovery closes a trouble a line announced: never two recoveries in a row, never one first.
    const kinds = lines.map(([, m]) => (m.startsWith("upstream failing") ? "failing" : "recovered"));
    expect(kinds[0]).toBe("failing");
    kinds.forEach((kind, i) => {
      if (kind === "recovered") expect(kinds[i - 1]).toBe("failing");
    });
    expect(lines.length).toBeLessThanOrEqual(2 * failing.length);
  });

  it("a repeat line comes only with a failure, never from successes while still degraded", () => {
    const { notices } = run([...fails(20), ...oks(9, 100_000)]);
    expect(notices).toEqual([[0, expect.stringMatching(/^upstream failing: /)]]);
  });

  it("carries the counts as fields, never more than the reason says", () => {
    const health = new UpstreamHealth();
    expect(health.record("network", refused, 0)).toEqual({
      message: expect.stringMatching(/^upstream failing: /),
      fields: { failures: 1, troubleMs: 0, lastError: "RW_NETWORK request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9" },
    });
    expect(health.record("ok", undefined, 2_500)).toEqual({ message: "upstream recovered after 1 failure", fields: { failures: 1, troubleMs: 2_500 } });
  });
});
