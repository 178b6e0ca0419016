/**
 * For scripts (stderr not a terminal): the first failed look at a room, every later change in how
 * looks fail, and the recovery, each as one line on stderr the moment it happens, so a mistyped URL
 * shows in seconds rather than when the deadline ends the wait. Pure: it says what to print.
 */
import type { SourceTarget } from "../core/evidence.js";
import type { RoomWatcherError } from "../core/errors.js";

/** How a look failed, coarsely: what changes here is worth a line. */
function kindOf(error: RoomWatcherError): string {
  const status = (error as RoomWatcherError & { status?: unknown }).status;
  return `${error.code} ${typeof status === "number" ? status : ""} ${error.hint ?? ""}`;
}

export class FailureReport {
  readonly #roomId: string;
  readonly #target: SourceTarget | undefined;
  #kind: string | undefined;
  #failures = 0;

  constructor(roomId: string, target: SourceTarget | undefined) {
    this.#roomId = roomId;
    this.#target = target;
  }

  /** A look failed; the line to print, when this failure differs from the one before. */
  failed(error: RoomWatcherError, nextDelayMs: number): string | undefined {
    this.#failures++;
    const kind = kindOf(error);
    if (kind === this.#kind) return undefined;
    const first = this.#kind === undefined;
    this.#kind = kind;
    const where = first && this.#target !== undefined ? ` (looking at ${this.#target.url})` : "";
    const again = `looking again in ${(nextDelayMs / 1000).toFixed(1)} s`;
    return first
      ? `room ${this.#roomId}: a look failed: ${error.message} [${error.code}]${where}; ${again}`
      : `room ${this.#roomId}: looks now fail differently: ${error.message} [${error.code}]; ${again}`;
  }

  /** A look was answered; the line to print when looks had been failing. */
  answered(): string | undefined {
    if (this.#kind === undefined) return undefined;
    this.#kind = undefined;
    const failures = this.#failures;
    this.#failures = 0;
    return `room ${this.#roomId}: ${this.#target?.name ?? "the upstream"} answers again (after ${failures} failed look${failures === 1 ? "" : "s"})`;
  }
}
