/** How the CLI shows connections, events and errors to people and to scripts. */
import type { Connection } from "../core/observation.js";
import { RoomWatcherError } from "../errors.js";
import type { ExposedPort } from "../wire/schemas.js";

export function hostPort(port: ExposedPort): string {
  return port.host.includes(":") ? `[${port.host}]:${port.port}` : `${port.host}:${port.port}`;
}

export function describeConnection(connection: Connection | undefined): string {
  return connection === undefined ? "-" : hostPort(connection.exposedPort);
}

/** A JSON-safe summary of an error: code and message, never headers or tokens. */
export function errorJson(error: unknown): { name: string; code?: string; message: string; status?: number; reason?: string } {
  if (error instanceof RoomWatcherError) {
    const extra = error as RoomWatcherError & { status?: number; reason?: string };
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      ...(typeof extra.status === "number" ? { status: extra.status } : {}),
      ...(typeof extra.reason === "string" ? { reason: extra.reason } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

export { redact } from "../core/redact.js";
