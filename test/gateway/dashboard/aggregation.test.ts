/** The dashboard's pure parts: the rate's intervals, the bounded event log, histogram buckets, the snapshot query. */
import { describe, expect, it } from "vitest";
import { TimerHeap } from "../../../src/core/timer-heap.js";
import { Dashboard, DASHBOARD_RATE_SAMPLES, DASHBOARD_SAMPLE_INTERVAL_MS } from "../../../src/gateway/dashboard/dashboard.js";
import { EventLog } from "../../../src/gateway/dashboard/event-log.js";
import { countsBy, latencyHistogram, type MetricValue } from "../../../src/gateway/dashboard/latency-buckets.js";
import { readSnapshotQuery } from "../../../src/gateway/dashboard/query.js";
import { RateSeries } from "../../../src/gateway/dashboard/rate-series.js";
import { fakeClock } from "../../helpers/fake-clock.js";

describe("RateSeries", () => {
  const NEVER = Number.NEGATIVE_INFINITY;
  it.each<[string, Array<[at: number, requests: number, pausedUntil: number]>, Array<{ at: number; requests: number; perSecond: number; paused: boolean }>]>([
    ["the first sample is only a baseline", [[1000, 5, NEVER]], []],
    ["requests per interval, per second", [[0, 0, NEVER], [1000, 10, NEVER], [3000, 30, NEVER]], [
      { at: 1000, requests: 10, perSecond: 10, paused: false },
      { at: 3000, requests: 20, perSecond: 10, paused: false },
    ]],
    ["a pause that ends inside the interval marks it", [[0, 0, NEVER], [1000, 4, 500]], [{ at: 1000, requests: 4, perSecond: 4, paused: true }]],
    ["a pause that ended before the interval does not", [[0, 0, NEVER], [1000, 4, 500], [2000, 9, 500]], [
      { at: 1000, requests: 4, perSecond: 4, paused: true },
      { at: 2000, requests: 5, perSecond: 5, paused: false },
    ]],
    ["a pause that outlasts the interval marks it", [[0, 0, NEVER], [1000, 1, 5000]], [{ at: 1000, requests: 1, perSecond: 1, paused: true }]],
    ["a sample no later than the last is ignored", [[1000, 0, NEVER], [1000, 5, NEVER], [500, 9, NEVER], [2000, 6, NEVER]], [{ at: 2000, requests: 6, perSecond: 6, paused: false }]],
    ["a counter that went backwards counts nothing", [[0, 10, NEVER], [1000, 3, NEVER]], [{ at: 1000, requests: 0, perSecond: 0, paused: false }]],
  ])("%s", (_name, samples, expected) => {
    const series = new RateSeries(10);
    for (const [at, requests, pausedUntil] of samples) series.sample(at, requests, pausedUntil);
    expect(series.samples).toEqual(expected);
  });

  it("keeps the latest `capacity` intervals", () => {
    const series = new RateSeries(3);
    for (let second = 0; second <= 10; second++) series.sample(second * 1000, second * 2, NEVER);
    expect(series.samples.map((s) => s.at)).toEqual([8000, 9000, 10_000]);
  });
});

describe("EventLog", () => {
  it("numbers events, answers those after a seq, and keeps only the latest", () => {
    const log = new EventLog(3);
    expect(log.lastSeq).toBe(0);
    expect(log.since(0)).toEqual([]);
    for (let i = 1; i <= 5; i++) log.add({ at: i, kind: "active", roomId: `r${i}`, detail: undefined });
    expect(log.lastSeq).toBe(5);
    expect(log.since(0).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.since(3).map((e) => e.roomId)).toEqual(["r4", "r5"]);
    expect(log.since(5)).toEqual([]);
    expect(log.since(99)).toEqual([]);
    expect(Object.isFrozen(log.since(0)[0])).toBe(true);
  });
});

describe("latencyHistogram", () => {
  const name = "x_seconds";
  const bucket = (le: string, value: number): MetricValue => ({ value, labels: { le }, metricName: `${name}_bucket` });
  it.each<[string, MetricValue[], ReturnType<typeof latencyHistogram>]>([
    ["nothing observed", [bucket("0.01", 0), bucket("+Inf", 0), { value: 0, labels: {}, metricName: `${name}_count` }], {
      buckets: [{ leMs: 10, count: 0 }, { leMs: null, count: 0 }],
      count: 0,
      sumMs: 0,
    }],
    ["cumulative to per bucket, in bound order, +Inf last", [
      bucket("+Inf", 7),
      bucket("0.1", 4),
      bucket("0.025", 1),
      bucket("2.5", 6),
      { value: 7, labels: {}, metricName: `${name}_count` },
      { value: 3.2505, labels: {}, metricName: `${name}_sum` },
      { value: 99, labels: { le: "0.1" }, metricName: "other_seconds_bucket" },
    ], {
      buckets: [{ leMs: 25, count: 1 }, { leMs: 100, count: 3 }, { leMs: 2500, count: 2 }, { leMs: null, count: 1 }],
      count: 7,
      sumMs: 3250.5,
    }],
  ])("%s", (_name, values, expected) => {
    expect(latencyHistogram(name, values)).toEqual(expected);
  });

  it("countsBy sums a counter's values by one label", () => {
    expect(countsBy("state", [
      { value: 2, labels: { state: "active" } },
      { value: 1, labels: { state: "ended" } },
      { value: 3, labels: { state: "active" } },
      { value: 9, labels: {} },
    ])).toEqual({ active: 5, ended: 1 });
  });
});

describe("readSnapshotQuery", () => {
  it.each<[string, ReturnType<typeof readSnapshotQuery>]>([
    ["/dashboard/api/snapshot", { ok: true, since: 0 }],
    ["/dashboard/api/snapshot?", { ok: true, since: 0 }],
    ["/dashboard/api/snapshot?since=0", { ok: true, since: 0 }],
    ["/dashboard/api/snapshot?since=42", { ok: true, since: 42 }],
    ["/dashboard/api/snapshot?since=-1", { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" }],
    ["/dashboard/api/snapshot?since=1.5", { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" }],
    ["/dashboard/api/snapshot?since=", { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" }],
    ["/dashboard/api/snapshot?since=1e3", { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" }],
    ["/dashboard/api/snapshot?since=9999999999999999", { ok: false, message: "since must be a non-negative integer (the seq of the last event seen)" }],
    ["/dashboard/api/snapshot?since=1&since=2", { ok: false, message: "since is given more than once" }],
    ["/dashboard/api/snapshot?token=abc", { ok: false, message: 'unknown query parameter "token": the only one is since' }],
    ["/dashboard/api/snapshot?since=1&x", { ok: false, message: 'unknown query parameter "x": the only one is since' }],
    ["/dashboard/api/snapshot?since=%zz", { ok: false, message: "malformed query string: bad percent-encoding" }],
    ["/dashboard/api/snapshot?%E0%A4%A=1", { ok: false, message: "malformed query string: bad percent-encoding" }],
    [`/dashboard/api/snapshot?${"a".repeat(500)}=1`, { ok: false, message: `unknown query parameter "${"a".repeat(40)}": the only one is since` }],
  ])("%s", (url, expected) => {
    expect(readSnapshotQuery(url)).toEqual(expected);
  });
});

describe("Dashboard sampling", () => {
  it("samples the request count once a second on the gateway's timers, and stop() leaves no timer", async () => {
    const { clock, tick, timers } = fakeClock(0);
    let requests = 0;
    let pausedUntil = Number.NEGATIVE_INFINITY;
    const dashboard = new Dashboard(new TimerHeap(clock), clock, () => ({ requests, pausedUntil }));
    dashboard.start();
    dashboard.start();
    expect(timers()).toBe(1);
    requests = 7;
    await tick(DASHBOARD_SAMPLE_INTERVAL_MS);
    requests = 10;
    pausedUntil = 1500;
    await tick(DASHBOARD_SAMPLE_INTERVAL_MS);
    expect(dashboard.rate.samples).toEqual([
      { at: 1000, requests: 7, perSecond: 7, paused: false },
      { at: 2000, requests: 3, perSecond: 3, paused: true },
    ]);
    await tick(DASHBOARD_SAMPLE_INTERVAL_MS * (DASHBOARD_RATE_SAMPLES + 5));
    expect(dashboard.rate.samples).toHaveLength(DASHBOARD_RATE_SAMPLES);
    dashboard.stop();
    dashboard.stop();
    expect(timers()).toBe(0);
  });
});
