/** The CLI's exit codes: one table, which every command's --help and the README show. */
import type { TerminationReason } from "../core/room-state.js";
import { AccessDeniedError, ConfigError, HttpError, RoomTerminatedError, UnknownPortError, WaitTimeoutError } from "../core/errors.js";

export const ExitCode = {
  /** The room is active (wait), or the command finished normally. */
  OK: 0,
  /** An error: a terminal HTTP error (402, 422, ...), invalid payloads, anything unexpected. */
  ERROR: 1,
  /** Bad arguments or configuration, or a flag the room cannot satisfy (a port name it lacks). */
  USAGE: 2,
  /** The room ended before it became active: destroyed, suspended or not found. */
  TERMINATED: 3,
  /** The room did not become active within --timeout. */
  TIMEOUT: 4,
  /** The host refused the credentials: 401, 403, a missing Kubernetes RBAC verb. */
  DENIED: 5,
  /** Interrupted (Ctrl-C / SIGINT / SIGTERM). */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each code means, as --help says it. A Record over ExitCode: a new code cannot go unexplained. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  [ExitCode.OK]: "the room is active (wait), or the command finished normally",
  [ExitCode.ERROR]: "an error: a terminal HTTP error (402, 422, ...), an invalid payload, an unreachable host at the deadline, anything unexpected",
  [ExitCode.USAGE]: "bad arguments or configuration (the message names the flag), or a flag the room cannot satisfy (a port name it lacks)",
  [ExitCode.TERMINATED]: "the room ended before it became active: the host ended it (destroyed, shut down, deleted, an error, ...) or it was not found",
  [ExitCode.TIMEOUT]: "the room did not become active within --timeout",
  [ExitCode.DENIED]: "the host refused the credentials: HTTP 401 or 403, or a missing RBAC verb (the message names it)",
  [ExitCode.INTERRUPTED]: "interrupted (Ctrl-C, SIGINT, SIGTERM)",
};

/** The "Exit codes:" block of every command's --help, generated from the table above. */
export function exitCodeHelp(): string {
  const codes = Object.values(ExitCode);
  const width = Math.max(...codes.map((code) => String(code).length));
  return ["Exit codes:", ...codes.map((code) => `  ${String(code).padEnd(width)}  ${EXIT_CODE_MEANINGS[code]}`)].join("\n");
}

/** The code a watch that ended with `reason` (and `cause`, for `failed`) exits with. */
export function exitCodeOf(reason: TerminationReason, cause?: unknown): ExitCode {
  switch (reason) {
    case "destroyed":
    case "suspended":
    case "shutdown":
    case "unhealthy":
    case "error":
    case "deleted":
    case "not_found":
      return ExitCode.TERMINATED;
    case "timeout":
      return ExitCode.TIMEOUT;
    case "aborted":
    case "stopped":
      return ExitCode.INTERRUPTED;
    case "failed":
      if (refusedCredentials(cause)) return ExitCode.DENIED;
      // A flag the room can never satisfy (a port name it does not have, say): bad input, like any ConfigError.
      return cause instanceof ConfigError || cause instanceof UnknownPortError ? ExitCode.USAGE : ExitCode.ERROR;
  }
}

/** Whether the host refused who we are (401, 403, a missing RBAC verb): the same credentials are refused again. */
function refusedCredentials(error: unknown): boolean {
  return error instanceof AccessDeniedError || (error instanceof HttpError && (error.status === 401 || error.status === 403));
}

/** The code a command ends with when it throws `error`. */
export function exitCodeOfError(error: unknown, signal: AbortSignal): ExitCode {
  if (signal.aborted && error === signal.reason) return ExitCode.INTERRUPTED;
  if (error instanceof WaitTimeoutError) return ExitCode.TIMEOUT;
  if (error instanceof RoomTerminatedError) return error.reason === "failed" ? exitCodeOf("failed", error.cause) : ExitCode.TERMINATED;
  if (error instanceof ConfigError) return ExitCode.USAGE;
  return refusedCredentials(error) ? ExitCode.DENIED : ExitCode.ERROR;
}
