/** How the CLI shows connections, events and errors to people and to scripts. */
import type { WatchEvidence } from "../core/evidence.js";
import type { Connection } from "../core/observation.js";
import { RoomWatcherError } from "../core/errors.js";
import type { ExposedPort } from "../core/observation.js";

export function hostPort(port: ExposedPort): string {
  return port.host.includes(":") ? `[${port.host}]:${port.port}` : `${port.host}:${port.port}`;
}

export function describeConnection(connection: Connection | undefined): string {
  return connection === undefined ? "-" : hostPort(connection.exposedPort);
}

export interface ErrorJson {
  name: string;
  code?: string;
  message: string;
  status?: number;
  reason?: string;
  hint?: string;
}

/** A JSON-safe summary of an error: code and message, never headers or tokens. */
export function errorJson(error: unknown): ErrorJson {
  if (error instanceof RoomWatcherError) {
    const extra = error as RoomWatcherError & { status?: number; reason?: string };
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      ...(typeof extra.status === "number" ? { status: extra.status } : {}),
      ...(typeof extra.reason === "string" ? { reason: extra.reason } : {}),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

export { redact } from "../core/redact.js";

/** What a watch saw of its upstream, for --json: where it looked, the looks, the last error, a hint. */
export function evidenceJson(evidence: WatchEvidence): Record<string, unknown> {
  const { target, answeredLooks, failedLooks, lastError, lastObservation, hint } = evidence;
  return {
    url: target?.url,
    app: target?.app,
    answeredLooks,
    failedLooks,
    lastObservation,
    lastError: lastError === undefined ? undefined : errorJson(lastError),
    hint,
  };
}

/** The evidence an error carries (WaitTimeoutError, RoomTerminatedError), if any. */
export function evidenceOf(error: unknown): WatchEvidence | undefined {
  return error instanceof RoomWatcherError ? (error as RoomWatcherError & { evidence?: WatchEvidence }).evidence : undefined;
}
