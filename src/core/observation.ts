/**
 * What a source can learn about a room in one look, in provider-neutral terms.
 * Sources (HTTP polling, WebSocket, others) turn their wire answers into these.
 */
/** `"tcp" | "udp" | "tls"`, or a value a newer host added (tolerated, reported). */
export type TransportType = "tcp" | "udp" | "tls" | (string & {});

/** One address players connect to; the default one is named `"default"`. */
export interface ExposedPort {
  readonly transportType: TransportType;
  readonly port: number;
  readonly host: string;
  readonly name: string;
}

/** Where players connect: the default port and any additional ones. */
export interface Connection {
  readonly exposedPort: ExposedPort;
  readonly additionalExposedPorts: readonly ExposedPort[];
}

export type Observation =
  /** The room exists and is not joinable yet. */
  | { readonly kind: "starting" }
  /** The room is joinable at `connection`. */
  | { readonly kind: "active"; readonly connection: Connection }
  /** The upstream does not know the room (404). */
  | { readonly kind: "not_found" }
  /** The host says the room has ended: why, in provider-neutral terms, and in the host's own words. */
  | {
      readonly kind: "ended";
      readonly reason: EndReason;
      /** The host's own word for the state it ended in (Agones `Shutdown`, Edgegap `ERROR`, ...), when it gave one. */
      readonly hostState?: string | undefined;
      /** What the host said went wrong (Edgegap's `error_detail`, say), when it said. */
      readonly detail?: string | undefined;
    }
  /** A status value nobody documented: tolerated, reported, and no change of state. */
  | { readonly kind: "unrecognized"; readonly status: string };

/**
 * Why a host says a room ended. Each provider maps its own states onto these; the host's word is
 * kept beside it in `hostState`.
 */
export const EndReason = {
  /** Gone: a `destroyed` status, a 404 after the room was seen, Edgegap `TERMINATED`. */
  DESTROYED: "destroyed",
  /** Hathora's deprecated suspend API. */
  SUSPENDED: "suspended",
  /** Shut down on purpose while running: Agones `Shutdown`, Edgegap `TERMINATING`. */
  SHUTDOWN: "shutdown",
  /** The host gave up on an unresponsive server: Agones `Unhealthy`. */
  UNHEALTHY: "unhealthy",
  /** The host reports an error: Agones `Error`, Edgegap `ERROR` (with `detail`). */
  ERROR: "error",
  /** The resource was deleted: a Kubernetes DELETED event. */
  DELETED: "deleted",
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];
export const END_REASONS: readonly EndReason[] = Object.values(EndReason);

/** A value outside a documented enum, tolerated and reported. */
export interface Warning {
  readonly code: "UNKNOWN_STATUS" | "UNKNOWN_TRANSPORT_TYPE";
  readonly message: string;
  readonly value: string;
}

/** What one successful look at a room returned. */
export interface PollResult {
  readonly observation: Observation;
  readonly warnings: readonly Warning[];
  /** What to check when the answer looks like the wrong upstream answered (a 404 that is not the API's). Diagnostics only. */
  readonly hint?: string | undefined;
}

export function samePort(a: ExposedPort, b: ExposedPort): boolean {
  return a.host === b.host && a.port === b.port && a.transportType === b.transportType && a.name === b.name;
}

export function sameConnection(a: Connection, b: Connection): boolean {
  return (
    samePort(a.exposedPort, b.exposedPort) &&
    a.additionalExposedPorts.length === b.additionalExposedPorts.length &&
    a.additionalExposedPorts.every((p, i) => {
      const other = b.additionalExposedPorts[i];
      return other !== undefined && samePort(p, other);
    })
  );
}

/** Whether two observations say the same: the same kind, and the same connection, reason or status. */
export function sameObservation(a: Observation, b: Observation): boolean {
  switch (a.kind) {
    case "active":
      return b.kind === "active" && sameConnection(a.connection, b.connection);
    case "ended":
      return b.kind === "ended" && a.reason === b.reason && a.hostState === b.hostState && a.detail === b.detail;
    case "unrecognized":
      return b.kind === "unrecognized" && a.status === b.status;
    default:
      return a.kind === b.kind;
  }
}

/**
 * An observation as a short string: two observations have the same key exactly when they say the
 * same (`sameObservation`).
 */
export function observationKey(observation: Observation): string {
  switch (observation.kind) {
    case "active": {
      const { exposedPort, additionalExposedPorts } = observation.connection;
      return `active:${JSON.stringify([exposedPort, ...additionalExposedPorts].map(portKey))}`;
    }
    case "ended":
      return `ended:${JSON.stringify([observation.reason, observation.hostState ?? null, observation.detail ?? null])}`;
    case "unrecognized":
      return `unrecognized:${observation.status}`;
    default:
      return observation.kind;
  }
}

function portKey(port: ExposedPort): [string, number, string, string] {
  return [port.host, port.port, port.transportType, port.name];
}
