/** What /healthz says, from the facts. */
import { describe, expect, it } from "vitest";
import { type GatewayHealth, gatewayHealth, type HealthFacts } from "../../src/gateway/health.js";

const fine: HealthFacts = { upstreamTrouble: undefined, probeDoubt: undefined, redisDown: false, draining: false };
const DOUBT = "upstream: the start-up probe's 404 did not come from the rooms API (an HTML page)";

describe("gatewayHealth", () => {
  it.each<[string, Partial<HealthFacts>, GatewayHealth]>([
    ["all fine", {}, { status: "ok", reasons: [] }],
    ["the upstream failing", { upstreamTrouble: "upstream: 3 of the last 4 requests failed" }, { status: "degraded", reasons: ["upstream: 3 of the last 4 requests failed"] }],
    ["the probe in doubt", { probeDoubt: "an HTML page" }, { status: "degraded", reasons: [DOUBT] }],
    ["Redis down", { redisDown: true }, { status: "degraded", reasons: ["redis: disconnected"] }],
    ["every reason, in order", { upstreamTrouble: "u", probeDoubt: "an HTML page", redisDown: true }, { status: "degraded", reasons: ["u", DOUBT, "redis: disconnected"] }],
    ["draining", { draining: true }, { status: "draining", reasons: ["draining: the gateway is closing; new connections are refused"] }],
    ["draining, with the rest after", { draining: true, redisDown: true }, { status: "draining", reasons: ["draining: the gateway is closing; new connections are refused", "redis: disconnected"] }],
  ])("%s", (_name, facts, health) => {
    expect(gatewayHealth({ ...fine, ...facts })).toEqual(health);
  });
});
