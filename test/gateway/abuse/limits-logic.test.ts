/**
 * The pure parts of the abuse limits, table by table: the descriptor limit and the socket budget under
 * it, the client address behind trusted proxies, the per-key rate, the window of invalid messages, and
 * which ws errors are closes.
 */
import { describe, expect, it } from "vitest";
import { clientAddress } from "../../../src/gateway/client-address.js";
import { libraryCloseCode, MessageWindow } from "../../../src/gateway/connection.js";
import { DESCRIPTOR_HEADROOM, readDescriptorLimit, socketBudget } from "../../../src/gateway/descriptor-limit.js";
import { KeyedRate } from "../../../src/gateway/keyed-rate.js";
import { DEFAULT_GATEWAY_LIMITS } from "../../../src/gateway/limits.js";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

describe("the descriptor limit", () => {
  it.each<[string, () => string, number | undefined]>([
    ["Linux's /proc/self/limits", () => LIMITS, 20_000],
    ["a soft limit below the hard one", () => LIMITS.replace("20000                20000", "1024                 524288"), 1024],
    ["unlimited", () => LIMITS.replace("20000                20000", "unlimited            unlimited"), undefined],
    ["no such file (not Linux)", () => { throw new Error("ENOENT"); }, undefined],
    ["no line for open files", () => "Limit Soft Hard\n", undefined],
  ])("%s", (_name, read, limit) => {
    expect(readDescriptorLimit(read)).toBe(limit);
  });

  it("reads this process's limit on Linux", () => {
    if (process.platform === "linux") expect(readDescriptorLimit()).toBeGreaterThan(0);
  });
});

describe("socketBudget", () => {
  const defaults = { maxConnections: DEFAULT_GATEWAY_LIMITS.maxConnections, maxPendingSockets: DEFAULT_GATEWAY_LIMITS.maxPendingSockets };
  const none = { maxConnections: undefined, maxPendingSockets: undefined };
  it.each<[string, number | undefined, { maxConnections: number | undefined; maxPendingSockets: number | undefined }, number, number, boolean]>([
    ["unknown limit: the defaults", undefined, none, 20_000, 1_000, false],
    ["a large limit: the defaults", 1_048_576, none, 20_000, 1_000, false],
    // The machines of issue 18: a limit of 20,000, equal to the old default maxConnections.
    ["a limit equal to the old default", 20_000, none, 18_744, 1_000, false],
    ["a small limit", 1_024, none, 692, 76, false],
    ["given limits that fit are kept", 1_024, { maxConnections: 500, maxPendingSockets: 100 }, 500, 100, false],
    ["given limits that do not fit are kept, with a warning", 20_000, { maxConnections: 20_000, maxPendingSockets: undefined }, 20_000, 1_000, true],
  ])("%s", (_name, limit, given, maxConnections, maxPendingSockets, warns) => {
    const budget = socketBudget(limit, given, defaults);
    expect(budget).toMatchObject({ maxConnections, maxPendingSockets });
    expect(budget.warning !== undefined).toBe(warns);
  });

  it("no default lets the process run out of descriptors before the gateway's limits act", () => {
    for (const limit of [300, 512, 1_024, 4_096, 20_000, 65_536]) {
      const { maxConnections, maxPendingSockets, warning } = socketBudget(limit, { maxConnections: undefined, maxPendingSockets: undefined }, defaults);
      expect(maxConnections + maxPendingSockets + DESCRIPTOR_HEADROOM).toBeLessThanOrEqual(limit);
      expect(warning).toBeUndefined();
    }
  });
});

describe("clientAddress", () => {
  const trusted = new Set(["10.0.0.2", "10.0.0.3"]);
  it.each<[string, string | undefined, string | undefined, string]>([
    ["no proxy: the peer", "203.0.113.5", undefined, "203.0.113.5"],
    ["an untrusted peer's X-Forwarded-For is ignored", "203.0.113.5", "198.51.100.1", "203.0.113.5"],
    ["IPv4 on a dual-stack socket", "::ffff:203.0.113.5", undefined, "203.0.113.5"],
    ["behind a trusted proxy: the hop it saw", "10.0.0.2", "198.51.100.1", "198.51.100.1"],
    ["a forged hop before the real one is not believed", "10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"],
    ["two trusted proxies in a row", "10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"],
    ["a trusted proxy with no header: the proxy", "10.0.0.2", undefined, "10.0.0.2"],
    ["only trusted hops: the first of them", "10.0.0.2", "10.0.0.3", "10.0.0.3"],
  ])("%s", (_name, remote, forwarded, address) => {
    expect(clientAddress(remote, forwarded, trusted)).toBe(address);
  });
});

describe("KeyedRate", () => {
  it("lets a burst through per key, then one per interval, and forgets keys that caught up", () => {
    let now = 0;
    const rate = new KeyedRate({ now: () => now }, { perMinute: 6, burst: 3, maxKeys: 2 });
    expect([1, 2, 3, 4].map(() => rate.take("a"))).toEqual([true, true, true, false]);
    expect(rate.over("a")).toBe(true);
    expect(rate.take("b")).toBe(true);
    now = 10_000;
    expect(rate.take("a")).toBe(true);
    expect(rate.take("a")).toBe(false);
    // A third key: the map is full, and the keys that have caught up (both, by now) go.
    now = 60_000;
    expect(rate.take("c")).toBe(true);
    expect(rate.size).toBe(1);
  });
});

describe("MessageWindow", () => {
  it("counts the invalid messages among the latest, however valid ones fall between", () => {
    const window = new MessageWindow(5);
    const counts = [true, false, true, false, true, true, false, false, false, false].map((invalid) => window.record(invalid));
    expect(counts).toEqual([1, 1, 2, 2, 3, 3, 3, 2, 2, 1]);
  });
});

describe("libraryCloseCode", () => {
  it.each([
    ["WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009],
    ["WS_ERR_INVALID_UTF8", 1007],
    ["WS_ERR_TOO_MANY_BUFFERED_PARTS", 1008],
    ["WS_ERR_UNEXPECTED_RSV_1", 1002],
    ["ECONNRESET", undefined],
  ])("%s -> %s", (code, close) => {
    expect(libraryCloseCode(Object.assign(new Error("x"), { code }))).toBe(close);
  });
});
