/** The CLI's exit codes: one table, documented in the README. */
import type { TerminationReason } from "../core/room-state.js";

export const ExitCode = {
  /** The room is active (wait), or the command finished normally. */
  OK: 0,
  /** An error: a terminal HTTP error (401, 402, 403, 422, ...), invalid payloads, anything unexpected. */
  ERROR: 1,
  /** Bad arguments or configuration. */
  USAGE: 2,
  /** The room ended before it became active: destroyed, suspended or not found. */
  TERMINATED: 3,
  /** The room did not become active within --timeout. */
  TIMEOUT: 4,
  /** Interrupted (Ctrl-C / SIGINT / SIGTERM). */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeOf(reason: TerminationReason): ExitCode {
  switch (reason) {
    case "destroyed":
    case "suspended":
    case "not_found":
      return ExitCode.TERMINATED;
    case "timeout":
      return ExitCode.TIMEOUT;
    case "aborted":
    case "stopped":
      return ExitCode.INTERRUPTED;
    case "failed":
      return ExitCode.ERROR;
  }
}
