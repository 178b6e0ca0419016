/**
 * From wire bodies to observations. Parse at the boundary: everything past here is typed.
 * A body that breaks the shape throws InvalidPayloadError with the zod issues as its cause;
 * a value outside a documented open enum is kept and reported as a Warning.
 */
import type { ExposedPort, Observation, PollResult, Warning } from "../../core/observation.js";
import { InvalidPayloadError } from "../../core/errors.js";
import { parseWith } from "../../core/wire-json.js";
import {
  ConnectionInfoV1Schema,
  ConnectionInfoV2Schema,
  KNOWN_TRANSPORT_TYPES,
  LEGACY_TERMINAL_STATUSES,
} from "./schemas.js";

export { apiErrorMessage, parseJson, parseWith } from "../../core/wire-json.js";

function transportWarnings(ports: readonly ExposedPort[]): Warning[] {
  const known: readonly string[] = KNOWN_TRANSPORT_TYPES;
  return ports
    .filter((p) => !known.includes(p.transportType))
    .map((p) => ({
      code: "UNKNOWN_TRANSPORT_TYPE" as const,
      value: p.transportType,
      message: `port "${p.name}" has an undocumented transportType "${p.transportType}"`,
    }));
}

function statusObservation(status: string): { observation: Observation; warnings: Warning[] } {
  const legacy: readonly string[] = LEGACY_TERMINAL_STATUSES;
  if (legacy.includes(status)) {
    return { observation: { kind: "ended", reason: status as "destroyed" | "suspended" }, warnings: [] };
  }
  return {
    observation: { kind: "unrecognized", status },
    warnings: [{ code: "UNKNOWN_STATUS", value: status, message: `undocumented room status "${status}"` }],
  };
}

/** GET /rooms/v2/{appId}/connectioninfo/{roomId} 200 body → observation. */
export function parseConnectionInfoV2(body: unknown, expectedRoomId?: string): PollResult {
  const info = parseWith(ConnectionInfoV2Schema, body, "connection info");
  checkRoomId(info.roomId, expectedRoomId);
  switch (info.status) {
    case "starting":
      return { observation: { kind: "starting" }, warnings: [] };
    case "active": {
      // The schema guarantees exposedPort when status is active.
      const exposedPort = info.exposedPort as ExposedPort;
      const connection = { exposedPort, additionalExposedPorts: info.additionalExposedPorts };
      return {
        observation: { kind: "active", connection },
        warnings: transportWarnings([exposedPort, ...info.additionalExposedPorts]),
      };
    }
    default:
      return statusObservation(info.status);
  }
}

/** GET /rooms/v1/{appId}/connectioninfo/{roomId} 200 body → observation; the port is named "default". */
export function parseConnectionInfoV1(body: unknown, expectedRoomId?: string): PollResult {
  const info = parseWith(ConnectionInfoV1Schema, body, "v1 connection info");
  checkRoomId(info.roomId, expectedRoomId);
  if (info.status === "starting") return { observation: { kind: "starting" }, warnings: [] };
  if ("port" in info) {
    const exposedPort: ExposedPort = {
      host: info.host,
      port: info.port,
      transportType: info.transportType,
      name: "default",
    };
    return {
      observation: { kind: "active", connection: { exposedPort, additionalExposedPorts: [] } },
      warnings: transportWarnings([exposedPort]),
    };
  }
  return statusObservation(info.status);
}

function checkRoomId(actual: string, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected) {
    throw new InvalidPayloadError(`connection info is for room "${actual}", not "${expected}"`);
  }
}
