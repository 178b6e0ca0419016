/**
 * Whether the upstream is failing, judged from the outcomes of the latest upstream requests (the ones
 * CountingSource counts for /metrics), and what to log about it. Pure: the caller passes the time of
 * each outcome and logs the notices it gets back.
 */
import { RoomWatcherError } from "../errors.js";
import type { UpstreamOutcome } from "./metrics.js";

/** How many of the latest upstream outcomes the verdict is drawn from. */
export const UPSTREAM_HEALTH_WINDOW = 20;

/**
 * While the upstream keeps failing, at most one "upstream failing" line per this interval: the first at
 * once, then one more per minute while failures go on, however many requests fail.
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
  loggedAt: number;
}

export class UpstreamHealth {
  readonly #windowSize: number;
  readonly #warnIntervalMs: number;
  /** The latest outcomes, oldest first: true for a failure. */
  readonly #window: boolean[] = [];
  #failed = 0;
  #lastError = "";
  #trouble: Trouble | undefined;

  constructor(options: { windowSize?: number | undefined; warnIntervalMs?: number | undefined } = {}) {
    this.#windowSize = options.windowSize ?? UPSTREAM_HEALTH_WINDOW;
    this.#warnIntervalMs = options.warnIntervalMs ?? UPSTREAM_WARN_INTERVAL_MS;
  }

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

  /**
   * Takes one request's outcome (`error` for a failed one). A request we aborted ourselves says nothing
   * about the upstream and is not counted. Returns the line to log, if any.
   */
  record(outcome: UpstreamOutcome, error: unknown, at: number): UpstreamNotice | undefined {
    if (outcome === "aborted") return undefined;
    const failed = outcome !== "ok" && outcome !== "not_found";
    this.#window.push(failed);
    if (failed) {
      this.#failed++;
      this.#lastError = describe(error);
    }
    if (this.#window.length > this.#windowSize && this.#window.shift() === true) this.#failed--;
    return this.#notice(failed, at);
  }

  #notice(failed: boolean, at: number): UpstreamNotice | undefined {
    const reason = this.reason;
    const trouble = this.#trouble;
    if (trouble === undefined) {
      if (reason === undefined) return undefined;
      // The failures that tipped the balance belong to the trouble too.
      this.#trouble = { since: at, failures: this.#failed, loggedAt: at };
      return { message: `upstream failing: ${reason}`, fields: { failures: this.#failed, lastError: this.#lastError } };
    }
    if (failed) trouble.failures++;
    if (reason === undefined) {
      this.#trouble = undefined;
      return {
        message: `upstream recovered after ${trouble.failures} failure${trouble.failures === 1 ? "" : "s"}`,
        fields: { failures: trouble.failures, troubleMs: at - trouble.since },
      };
    }
    if (failed && at - trouble.loggedAt >= this.#warnIntervalMs) {
      trouble.loggedAt = at;
      return { message: `upstream failing: ${reason}`, fields: { failures: trouble.failures, troubleMs: at - trouble.since, lastError: this.#lastError } };
    }
    return undefined;
  }
}

/** An upstream error as a reason repeats it: its code (or name) and message, never a stack. */
function describe(error: unknown): string {
  const text =
    error instanceof RoomWatcherError ? `${error.code} ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
