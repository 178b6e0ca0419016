/** The CLI's flag-value parsers and its retelling of library messages in flags: pure, table-driven. */
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseMs, parseNonNegativeInt, parsePort, parsePositiveInt, parsePositiveMs, parsePositiveNumber } from "../../src/cli/args.js";
import { GATEWAY_FLAG_NAMES, inFlagTerms, WATCH_FLAG_NAMES, withFlagNames } from "../../src/cli/flag-names.js";
import { ConfigError, HttpError } from "../../src/core/errors.js";

describe("flag-value parsers", () => {
  const parsers = { parsePort, parseNonNegativeInt, parsePositiveInt, parseMs, parsePositiveMs, parsePositiveNumber };
  const table: ReadonlyArray<{ parser: keyof typeof parsers; accepts: Array<[string, number]>; refuses: string[] }> = [
    { parser: "parsePort", accepts: [["0", 0], ["4000", 4000], ["65535", 65_535]], refuses: ["65536", "99999", "-1", "80.5", "", " ", "abc", "1e6", "Infinity"] },
    { parser: "parseNonNegativeInt", accepts: [["0", 0], ["7", 7]], refuses: ["-1", "1.5", "", "x", "1e30"] },
    { parser: "parsePositiveInt", accepts: [["1", 1], ["64", 64]], refuses: ["0", "-3", "2.5", "", "NaN"] },
    { parser: "parseMs", accepts: [["0", 0], ["250", 250], ["0.5", 0.5]], refuses: ["-1", "", "abc", "Infinity"] },
    { parser: "parsePositiveMs", accepts: [["1", 1], ["5000", 5000]], refuses: ["0", "-5", "", "Infinity"] },
    { parser: "parsePositiveNumber", accepts: [["0.5", 0.5], ["20", 20]], refuses: ["0", "-1", "", "x"] },
  ];
  for (const { parser, accepts, refuses } of table) {
    it.for(accepts)(`${parser}(%j) is %j`, ([value, expected]) => {
      expect(parsers[parser](value)).toBe(expected);
    });
    it.for(refuses)(`${parser}(%j) is refused as an invalid argument`, (value) => {
      expect(() => parsers[parser](value)).toThrow(InvalidArgumentError);
    });
  }

  it("says what a port may be", () => {
    expect(() => parsePort("99999")).toThrow("expected a port number from 0 to 65535 (0: any free port)");
  });
});

describe("library option names told as flags", () => {
  it.for([
    ["pollIntervalMs must be a positive finite number of milliseconds, got 0", "--poll-interval must be a positive finite number of milliseconds, got 0"],
    ["activePollIntervalMs must be a positive finite number of milliseconds, got 0", "--active-poll-interval must be a positive finite number of milliseconds, got 0"],
    // Whole names only: maxPollIntervalMs is not pollIntervalMs.
    ["maxPollIntervalMs must not be below pollIntervalMs", "maxPollIntervalMs must not be below --poll-interval"],
    ["base URL must be http or https, not ftp:", "--base-url must be http or https, not ftp:"],
    ["gateway URL must be ws or wss, not http:", "--gateway must be ws or wss, not http:"],
    ['invalid app id "a/b": expected 1..100 characters of [a-zA-Z0-9_-]', 'invalid --app-id "a/b": expected 1..100 characters of [a-zA-Z0-9_-]'],
    ['invalid room id "../x": expected 1..100 characters of [a-zA-Z0-9_-]', 'invalid room id "../x": expected 1..100 characters of [a-zA-Z0-9_-]'],
  ] as const)("wait/watch: %j -> %j", ([message, told]) => {
    expect(inFlagTerms(message, WATCH_FLAG_NAMES)).toBe(told);
  });

  it.for([
    ["base URL must be http or https, not ftp:", "--base-url must be http or https, not ftp:"],
    ["maxFrameBytes must be a positive integer, got 0", "--max-frame-bytes must be a positive integer, got 0"],
    ["maxSubscriptionsPerConnection must be a positive integer, got 0", "--max-subscriptions must be a positive integer, got 0"],
    ["leaseTtlMs must be at least 300 and finite", "--lease-ttl must be at least 300 and finite"],
    ["redis URL must be redis: or rediss:, not http:", "--redis must be redis: or rediss:, not http:"],
    ["redis must be a redis:// or rediss:// URL", "--redis must be a redis:// or rediss:// URL"],
  ] as const)("gateway: %j -> %j", ([message, told]) => {
    expect(inFlagTerms(message, GATEWAY_FLAG_NAMES)).toBe(told);
  });

  it("retells a ConfigError, keeping the original as its cause, and leaves other errors alone", () => {
    const original = new ConfigError("timeoutMs must be a non-negative finite number of milliseconds, got -1");
    const told = withFlagNames(original, WATCH_FLAG_NAMES);
    expect(told).toBeInstanceOf(ConfigError);
    expect((told as ConfigError).message).toBe("--timeout must be a non-negative finite number of milliseconds, got -1");
    expect((told as ConfigError).cause).toBe(original);
    const untouched = new ConfigError("nothing to retell here");
    expect(withFlagNames(untouched, WATCH_FLAG_NAMES)).toBe(untouched);
    const http = new HttpError(401, "pollIntervalMs");
    expect(withFlagNames(http, WATCH_FLAG_NAMES)).toBe(http);
  });
});
