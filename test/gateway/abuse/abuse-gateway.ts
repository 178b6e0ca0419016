/**
 * What the abuse suite shares: a gateway on a fake clock whose upstream is a table (rooms it was told
 * of are starting until their time, then active; every other room is not found), recording each look.
 */
import type { PollResult } from "../../../src/core/observation.js";
import type { PollingSource } from "../../../src/core/source.js";
import { Gateway, type GatewayOptions } from "../../../src/gateway/server.js";
import { Fleet, type FleetOptions } from "../../../src/watch/fleet.js";
import { fakeClock } from "../../helpers/fake-clock.js";
import { active, notFound, starting } from "../../helpers/scripted-source.js";

export class TableUpstream implements PollingSource {
  readonly kind = "poll";
  readonly key = "abuse-table";
  readonly looks: { readonly roomId: string; readonly at: number }[] = [];
  /** Rooms that exist: starting until the time given, active from then on. */
  readonly activeAt = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  poll(roomId: string): Promise<PollResult> {
    const now = this.#now();
    this.looks.push({ roomId, at: now });
    const at = this.activeAt.get(roomId);
    return Promise.resolve(at === undefined ? notFound : now >= at ? active(7000) : starting);
  }

  looksAt(roomId: string): number[] {
    return this.looks.filter((look) => look.roomId === roomId).map((look) => look.at);
  }
}

/** A started gateway on a fake clock over a TableUpstream; `close()` stops everything and checks no timer is left. */
export async function abuseGateway(options: Partial<GatewayOptions> = {}, fleetOptions: Partial<FleetOptions> = {}) {
  const time = fakeClock();
  const upstream = new TableUpstream(() => time.fake.now);
  const fleet = new Fleet({ clock: time.clock, random: () => 0.5, learn: false, ...fleetOptions });
  const gateway = await Gateway.start({
    source: upstream,
    fleet,
    clock: time.clock,
    defaultMetrics: false,
    probeUpstream: false,
    ...options,
    limits: { heartbeatIntervalMs: 0, ...options.limits },
  });
  return {
    time,
    upstream,
    fleet,
    gateway,
    async close(): Promise<number> {
      await gateway.close();
      await fleet.close();
      return time.timers();
    },
  };
}

/** The value of one sample of the gateway's metrics (0 when absent). */
export async function metric(gateway: Gateway, sample: string): Promise<number> {
  const text = await gateway.metricsText();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/**
 * Waits for the event loop to bring what the test is waiting for (a socket the server has yet to accept),
 * re-checking after each turn of I/O: no timer, so the fake clock stays where the test left it.
 */
export async function eventually(check: () => Promise<boolean> | boolean, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (await check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error("the condition never held");
}
