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
  /** The upstream says the room has ended (legacy `destroyed` / `suspended` statuses). */
  | { readonly kind: "ended"; readonly reason: "destroyed" | "suspended" }
  /** A status value nobody documented: tolerated, reported, and no change of state. */
  | { readonly kind: "unrecognized"; readonly status: string };

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
      return b.kind === "ended" && a.reason === b.reason;
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
      return `ended:${observation.reason}`;
    case "unrecognized":
      return `unrecognized:${observation.status}`;
    default:
      return observation.kind;
  }
}

function portKey(port: ExposedPort): [string, number, string, string] {
  return [port.host, port.port, port.transportType, port.name];
}
