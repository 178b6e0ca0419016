/**
 * Faults of the fake Kubernetes API: the request faults every simulated API shares (429, 5xx, slow,
 * dropped, malformed: ../faults.ts) on list and get, plus what only a watch can suffer: a 410 storm,
 * a stream that goes silent, a stream cut mid-way, and allocation contention. Seeded, like the rest.
 */
import { z } from "zod";
import { ConfigError } from "../../core/errors.js";
import { validateFaults, type FaultOptions } from "../faults.js";
import { createRandom, type Random } from "../random.js";

export interface WatchFaultOptions {
  /** Chance a watch is answered 410 Expired whatever its resourceVersion (1 = a 410 storm). Default 0. */
  goneRate?: number | undefined;
  /** How a 410 reaches the client: "event" (200, one ERROR event, end: today's apiserver) or "http" (HTTP 410 with a Status). Default "event". */
  goneAs?: "event" | "http" | undefined;
  /** Chance a new watch goes silent: headers, then no event, no bookmark and no end. Default 0. */
  silentRate?: number | undefined;
  /** Chance a watch stream is cut (socket destroyed) after each event it sends. Default 0. */
  dropRate?: number | undefined;
}

export interface AgonesFaultOptions {
  /** Faults on list and get (not watch): `errorRates` (5xx), `rateLimit` (429), `latencyMs` (slow lists), `dropRate`, `malformedRate`. Default none. */
  list?: FaultOptions | undefined;
  /** Faults on watch streams. Default none. */
  watch?: WatchFaultOptions | undefined;
  /** Chance an allocation that would succeed answers Contention instead. Default 0. */
  contentionRate?: number | undefined;
}

const probability = z.number().min(0).max(1);
const WatchFaultSchema = z.strictObject({
  goneRate: probability.optional(),
  goneAs: z.enum(["event", "http"]).optional(),
  silentRate: probability.optional(),
  dropRate: probability.optional(),
});

/** Throws ConfigError when `faults` is not valid. */
export function validateAgonesFaults(faults: AgonesFaultOptions): void {
  if (faults.list !== undefined) validateFaults(faults.list);
  const watch = WatchFaultSchema.safeParse(faults.watch ?? {});
  if (!watch.success) {
    const detail = watch.error.issues.map((i) => `watch.${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid fault options: ${detail}`, { cause: watch.error });
  }
  if (faults.contentionRate !== undefined && !probability.safeParse(faults.contentionRate).success) {
    throw new ConfigError("invalid fault options: contentionRate must be in [0, 1]");
  }
}

export type WatchStart = "normal" | "gone" | "silent";

/** Seeded draws for watch and allocation faults (list faults draw from the shared FaultInjector). */
export class WatchFaults {
  #options: WatchFaultOptions = {};
  #contentionRate = 0;
  readonly #random: Random;

  constructor(seed: number) {
    this.#random = createRandom(seed, "agones-watch-faults");
  }

  set(faults: AgonesFaultOptions): void {
    this.#options = { ...faults.watch };
    this.#contentionRate = faults.contentionRate ?? 0;
  }

  get goneAs(): "event" | "http" {
    return this.#options.goneAs ?? "event";
  }

  /** How a new watch starts. */
  start(): WatchStart {
    if (this.#random.chance(this.#options.goneRate ?? 0)) return "gone";
    if (this.#random.chance(this.#options.silentRate ?? 0)) return "silent";
    return "normal";
  }

  /** Whether to cut a stream after the event it just sent. */
  dropAfterEvent(): boolean {
    return this.#random.chance(this.#options.dropRate ?? 0);
  }

  contention(): boolean {
    return this.#random.chance(this.#contentionRate);
  }
}
