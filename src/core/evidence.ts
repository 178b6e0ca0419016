/**
 * What a watch saw of its upstream, carried by every ending (the `terminated` event, WaitTimeoutError,
 * RoomTerminatedError) so that a failure names its cause: a dead upstream must not read as a slow room,
 * nor a wrong host as a room that does not exist. Pure: the log counts, `describeEvidence` words it.
 */
import type { Observation } from "./observation.js";

/** Where a source looks for a room, fit to print: no credential is ever part of it. */
export interface SourceTarget {
  /** What answers there, for messages: "the rooms API", "the gateway". */
  readonly name: string;
  /** The URL looked at (a room's connection-info URL, a gateway's ws URL). */
  readonly url: string;
  /** The app (or namespace) the room belongs to, where the upstream has one. */
  readonly app?: string | undefined;
}

export interface WatchEvidence {
  /** Where the watch looked; undefined when its source cannot say. */
  readonly target: SourceTarget | undefined;
  /** Looks that got an answer the watcher understood. */
  readonly answeredLooks: number;
  /** Looks that failed: network errors, HTTP errors, invalid payloads, time-outs. */
  readonly failedLooks: number;
  /** What the last failed look failed with. */
  readonly lastError: Error | undefined;
  /** What the last answered look said. */
  readonly lastObservation: Observation["kind"] | undefined;
  /** A likely misconfiguration the answers point at ("is the base URL right?"). */
  readonly hint: string | undefined;
}

/** An error that may carry a hint of what to check (RoomWatcherError does). */
interface Hinted {
  readonly hint?: string | undefined;
}

/** Counts a watch's looks as they come; `snapshot()` is what an ending carries. */
export class EvidenceLog {
  readonly #target: SourceTarget | undefined;
  #answered = 0;
  #failed = 0;
  #lastError: Error | undefined;
  #lastObservation: Observation["kind"] | undefined;
  #hint: string | undefined;

  constructor(target: SourceTarget | undefined) {
    this.#target = target;
  }

  answered(observation: Observation, hint: string | undefined): void {
    this.#answered++;
    this.#lastObservation = observation.kind;
    this.#hint = hint;
  }

  failed(error: unknown): void {
    this.#failed++;
    this.#lastError = error instanceof Error ? error : new Error(String(error));
    this.#hint = (error as Hinted | undefined)?.hint;
  }

  snapshot(): WatchEvidence {
    return Object.freeze({
      target: this.#target,
      answeredLooks: this.#answered,
      failedLooks: this.#failed,
      lastError: this.#lastError,
      lastObservation: this.#lastObservation,
      hint: this.#hint,
    });
  }
}

const OBSERVATION_WORDS: Record<Observation["kind"], string> = {
  starting: "starting",
  active: "active",
  not_found: "404, no such room",
  ended: "ended",
  unrecognized: "an undocumented status",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function errorWords(error: Error): string {
  const code = codeOf(error);
  return code === undefined ? error.message : `${error.message} [${code}]`;
}

/** Failures that mean no answer came back at all, as opposed to an answer that was an error. */
const UNREACHED_CODES = new Set(["RW_NETWORK", "RW_REQUEST_TIMEOUT"]);

/**
 * One sentence a person can act on: whether the upstream was ever reached, the looks, the last
 * error, where it looked and what to check. For example: "the rooms API was never reached: 6 looks
 * failed, the last: request failed: ... ECONNREFUSED ... [RW_NETWORK]; looked at http://...
 * (app app-1)".
 */
export function describeEvidence(evidence: WatchEvidence): string {
  const { target, answeredLooks, failedLooks, lastError, lastObservation, hint } = evidence;
  const name = target?.name ?? "the upstream";
  const lastFailure = lastError === undefined ? "" : `, the last: ${errorWords(lastError)}`;
  let looks: string;
  if (answeredLooks === 0 && failedLooks > 0) {
    const unreached = lastError !== undefined && UNREACHED_CODES.has(codeOf(lastError) ?? "");
    looks = unreached
      ? `${name} was never reached: ${plural(failedLooks, "look")} failed${lastFailure}`
      : `no look at ${name} succeeded: ${plural(failedLooks, "look")} failed${lastFailure}`;
  }
  else if (answeredLooks === 0) looks = `${name} had not answered yet (the first look was still under way)`;
  else {
    const last = lastObservation === undefined ? "" : ` (the last: ${OBSERVATION_WORDS[lastObservation]})`;
    looks = `${plural(answeredLooks, "look")} answered${last}, ${failedLooks} failed${lastFailure}`;
  }
  const where = target === undefined ? "" : `; looked at ${target.url}${target.app === undefined ? "" : ` (app ${target.app})`}`;
  // An error's hint is already the end of its message.
  const showHint = hint !== undefined && lastError?.message.includes(hint) !== true;
  return `${looks}${where}${showHint ? `; ${hint}` : ""}`;
}
