/** What a watch saw of its upstream, and the sentence that says it: pure, table-driven. */
import { describe, expect, it } from "vitest";
import { describeEvidence, EvidenceLog, type WatchEvidence } from "../../src/core/evidence.js";
import { HttpError, NetworkError, RequestTimeoutError } from "../../src/core/errors.js";
import { FailureReport } from "../../src/cli/failure-report.js";

const target = { name: "the rooms API", url: "http://127.0.0.1:4000/rooms/v2/app-1/connectioninfo/r1", app: "app-1" };
const where = `looked at ${target.url} (app app-1)`;
const evidence = (fields: Partial<WatchEvidence>): WatchEvidence => ({
  target,
  answeredLooks: 0,
  failedLooks: 0,
  lastError: undefined,
  lastObservation: undefined,
  hint: undefined,
  ...fields,
});

describe("describeEvidence", () => {
  it.each<[string, Partial<WatchEvidence>, string]>([
    [
      "never reached: the last failure got no answer at all",
      { failedLooks: 3, lastError: new NetworkError("connect ECONNREFUSED 127.0.0.1:4000") },
      `the rooms API was never reached: 3 looks failed, the last: connect ECONNREFUSED 127.0.0.1:4000 [RW_NETWORK]; ${where}`,
    ],
    [
      "never reached: every look timed out",
      { failedLooks: 1, lastError: new RequestTimeoutError(10_000) },
      `the rooms API was never reached: 1 look failed, the last: request took longer than 10000 ms [RW_REQUEST_TIMEOUT]; ${where}`,
    ],
    [
      "something answered, but no look succeeded",
      { failedLooks: 2, lastError: new HttpError(502, undefined, { hint: "an HTML page answered" }) },
      `no look at the rooms API succeeded: 2 looks failed, the last: HTTP 502 (an HTML page answered) [RW_HTTP]; ${where}`,
    ],
    ["no answer yet", {}, `the rooms API had not answered yet (the first look was still under way); ${where}`],
    [
      "answered, never failed, with a hint from the answers",
      { answeredLooks: 4, lastObservation: "not_found", hint: "is the base URL right?" },
      `4 looks answered (the last: 404, no such room), 0 failed; ${where}; is the base URL right?`,
    ],
    [
      "answered, then failing: the error's hint is said once",
      { answeredLooks: 1, lastObservation: "starting", failedLooks: 1, lastError: new NetworkError("reset", { hint: "the server closed it" }), hint: "the server closed it" },
      `1 look answered (the last: starting), 1 failed, the last: reset (the server closed it) [RW_NETWORK]; ${where}`,
    ],
    ["no target", { target: undefined, answeredLooks: 2, lastObservation: "starting" }, "2 looks answered (the last: starting), 0 failed"],
    [
      "a plain error with no code, no app",
      { target: { name: "the gateway", url: "ws://127.0.0.1:4100" }, failedLooks: 1, lastError: new Error("boom") },
      "no look at the gateway succeeded: 1 look failed, the last: boom; looked at ws://127.0.0.1:4100",
    ],
  ])("%s", (_name, fields, sentence) => {
    expect(describeEvidence(evidence(fields))).toBe(sentence);
  });
});

describe("EvidenceLog", () => {
  it("counts answers and failures, keeps the last of each, and takes the hint of the latest look", () => {
    const log = new EvidenceLog(target);
    expect(log.snapshot()).toEqual(evidence({}));
    log.answered({ kind: "starting" }, undefined);
    const refused = new NetworkError("refused", { hint: "nothing listens" });
    log.failed(refused);
    expect(log.snapshot()).toEqual(evidence({ answeredLooks: 1, lastObservation: "starting", failedLooks: 1, lastError: refused, hint: "nothing listens" }));
    log.answered({ kind: "not_found" }, "is the base URL right?");
    log.failed("not an error");
    const snapshot = log.snapshot();
    expect(snapshot).toMatchObject({ answeredLooks: 2, failedLooks: 2, lastObservation: "not_found", hint: undefined });
    expect(snapshot.lastError).toEqual(new Error("not an error"));
    expect(Object.isFrozen(snapshot)).toBe(true);
  });
});

describe("FailureReport (what `wait` prints on stderr when piped)", () => {
  it("says the first failure with where it looked, then only changes of kind, then the recovery", () => {
    const report = new FailureReport("r1", target);
    const refused = new NetworkError("connect ECONNREFUSED 127.0.0.1:4000");
    expect(report.answered()).toBeUndefined();
    expect(report.failed(refused, 250)).toBe(
      `room r1: a look failed: connect ECONNREFUSED 127.0.0.1:4000 [RW_NETWORK] (looking at ${target.url}); looking again in 0.3 s`,
    );
    expect(report.failed(refused, 500)).toBeUndefined();
    expect(report.failed(new HttpError(502, undefined), 1_000)).toBe("room r1: looks now fail differently: HTTP 502 [RW_HTTP]; looking again in 1.0 s");
    expect(report.failed(new HttpError(503, undefined), 2_000)).toBe("room r1: looks now fail differently: HTTP 503 [RW_HTTP]; looking again in 2.0 s");
    expect(report.answered()).toBe("room r1: the rooms API answers again (after 4 failed looks)");
    expect(report.answered()).toBeUndefined();
    expect(report.failed(refused, 250)).toMatch(/^room r1: a look failed: .* \(looking at /);
  });
});
