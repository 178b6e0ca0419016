/**
 * Whether the upstream is failing, judged from the outcomes of the latest upstream requests (the ones
 * CountingSource counts for /metrics), and what to log about it. Pure: the caller passes the time of
 * each outcome and logs the notices it gets back.
 */
import { RoomWatcherError } from "../core/errors.js";
import type { UpstreamOutcome } from "./metrics.js";

/** How many of the latest upstream outcomes the verdict is drawn from. */
export const UPSTREAM_HEALTH_WINDOW = 20;

/**
 * At most one "upstream failing" line per this interval: the first at once, then one more per minute
 * while failures go on, however many requests fail. A recovery is logged once per announced trouble.
 */
export const UPSTREAM_WARN_INTERVAL_MS = 60_000;

/** The longest error text a reason or a log line repeats. */
const MAX_ERROR_CHARS = 300;

/** A line to log at warn: the trouble began (or goes on, once per interval), or it ended. */
export interface UpstreamNotice {
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

interface Trouble {
  readonly since: number;
  /** Failed requests since the trouble began. */
  failures: number;
  /** Whether a line said it began; a trouble never announced ends silently too. */
  announced: boolean;
}

export class UpstreamHealth {
  /** The latest outcomes, oldest first: true for a failure. */
  readonly #window: boolean[] = [];
  #failed = 0;
  #answered = 0;
  #lastError = "";
  #trouble: Trouble | undefined;
  /** When the last "upstream failing" line was logged, in this trouble or an earlier one. */
  #lastWarnedAt = Number.NEGATIVE_INFINITY;

  /**
   * Why the upstream counts as failing: more than half of the latest requests (up to the window) failed.
   * Undefined when it does not, including before any request.
   */
  get reason(): string | undefined {
    const total = this.#window.length;
    if (this.#failed * 2 <= total) return undefined;
    const percent = Math.round((this.#failed / total) * 100);
    return `upstream: ${percent}% of the last ${total} request${total === 1 ? "" : "s"} failed, last error: ${this.#lastError}`;
  }

  /** Requests a room's status answered (not a 404, not a failure): each proves the upstream is the rooms API. */
  get answered(): number {
    return this.#answered;
  }

  /**
   * Takes one request's outcome (`error` for a failed one). A request we aborted ourselves says nothing
   * about the upstream and is not counted. Returns the line to log, if any.
   */
  record(outcome: UpstreamOutcome, error: unknown, at: number): UpstreamNotice | undefined {
    if (outcome === "aborted") return undefined;
    if (outcome === "ok") this.#answered++;
    const failed = outcome !== "ok" && outcome !== "not_found";
    this.#window.push(failed);
    if (failed) {
      this.#failed++;
      this.#lastError = describe(error);
    }
    if (this.#window.length > UPSTREAM_HEALTH_WINDOW && this.#window.shift() === true) this.#failed--;
    return this.#notice(failed, at);
  }

  #notice(failed: boolean, at: number): UpstreamNotice | undefined {
    const reason = this.reason;
    let trouble = this.#trouble;
    if (trouble === undefined) {
      if (reason === undefined) return undefined;
      // The failures that tipped the balance belong to the trouble too.
      trouble = this.#trouble = { since: at, failures: this.#failed, announced: false };
    } else if (failed) {
      trouble.failures++;
    }
    if (reason === undefined) {
      this.#trouble = undefined;
      if (!trouble.announced) return undefined;
      return {
        message: `upstream recovered after ${trouble.failures} failure${trouble.failures === 1 ? "" : "s"}`,
        fields: { failures: trouble.failures, troubleMs: at - trouble.since },
      };
    }
    // One "failing" line per interval, across troubles: an upstream flapping around the threshold
    // logs no more than one that did not recover.
    if (!failed || at - this.#lastWarnedAt < UPSTREAM_WARN_INTERVAL_MS) return undefined;
    this.#lastWarnedAt = at;
    trouble.announced = true;
    return { message: `upstream failing: ${reason}`, fields: { failures: trouble.failures, troubleMs: at - trouble.since, lastError: this.#lastError } };
  }
}

/** An upstream error as a reason repeats it: its code (or name) and message, never a stack. */
function describe(error: unknown): string {
  const text =
    error instanceof RoomWatcherError ? `${error.code} ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
