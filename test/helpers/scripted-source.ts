import type { SourceTarget } from "../../src/core/evidence.js";
import type { PollResult } from "../../src/core/observation.js";
import type { PollingSource, RequestBudget } from "../../src/core/source.js";
import type { ExposedPort } from "../../src/core/observation.js";

export type Step = PollResult | Error | ((signal: AbortSignal) => Promise<PollResult>);

export const starting: PollResult = { observation: { kind: "starting" }, warnings: [] };
export const notFound: PollResult = { observation: { kind: "not_found" }, warnings: [] };
export const portOf = (port: number): ExposedPort => ({ host: "127.0.0.1", port, transportType: "udp", name: "default" });
export const active = (port: number): PollResult => ({
  observation: { kind: "active", connection: { exposedPort: portOf(port), additionalExposedPorts: [] } },
  warnings: [],
});

/**
 * A source that answers from a script, one step per look; the last step repeats. Records when
 * each look happened, by the clock it is given.
 */
export class ScriptedSource implements PollingSource {
  readonly key: string;
  readonly budget: RequestBudget | undefined;
  readonly calls: number[] = [];
  #steps: Step[];
  readonly #now: () => number;

  /** `budget`: the upstream's own, as a real source of that host declares it. */
  constructor(steps: Step[], now: () => number, key = "scripted", budget?: RequestBudget) {
    this.#steps = [...steps];
    this.#now = now;
    this.key = key;
    this.budget = budget;
  }

  target(roomId: string): SourceTarget {
    return { name: "the scripted API", url: `scripted://rooms/${roomId}`, app: "app-1" };
  }

  /** Replaces what the following looks answer. */
  script(steps: Step[]): void {
    this.#steps = [...steps];
  }

  async poll(_roomId: string, { signal }: { readonly signal: AbortSignal }): Promise<PollResult> {
    this.calls.push(this.#now());
    const step = this.#steps.length > 1 ? this.#steps.shift() : this.#steps[0];
    if (step === undefined) throw new Error("script is empty");
    if (typeof step === "function") return step(signal);
    if (step instanceof Error) throw step;
    return step;
  }

  /** Gaps between consecutive looks. */
  gaps(): number[] {
    return this.calls.slice(1).map((t, i) => t - (this.calls[i] as number));
  }
}
