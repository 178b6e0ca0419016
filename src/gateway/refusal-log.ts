/**
 * Refusals logged at a rate a flood cannot turn into a flood of log lines: the first of each reason at
 * once, then at most one line per reason per REFUSAL_LOG_INTERVAL_MS, saying how many came since. Every
 * refusal is counted in the metrics all the same.
 */
import type { Clock } from "../core/clock.js";
import type { GatewayLogger } from "./logging.js";
import type { TicketRefusal } from "./admission.js";
import type { RefusalReason } from "./metrics.js";

export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class RefusalLog {
  readonly #clock: Pick<Clock, "now">;
  readonly #logger: GatewayLogger;
  readonly #last = new Map<string, { at: number; since: number }>();

  constructor(clock: Pick<Clock, "now">, logger: GatewayLogger) {
    this.#clock = clock;
    this.#logger = logger;
  }

  /** `reason`: a RefusalReason, or another refusal worth a line (`unauthorized`, `origin`, a ticket's: `ticket_expired`...). */
  refused(reason: RefusalReason | "unauthorized" | "origin" | `ticket_${TicketRefusal}`, address: string | undefined): void {
    const now = this.#clock.now();
    const last = this.#last.get(reason);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL_MS) {
      last.since++;
      return;
    }
    const suppressed = last?.since ?? 0;
    this.#last.set(reason, { at: now, since: 0 });
    this.#logger.info({ reason, remote: address, suppressed }, `refused: ${reason}${suppressed > 0 ? ` (and ${suppressed} more since the last line)` : ""}`);
  }
}
