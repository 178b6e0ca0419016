/**
 * From a deployment's status body to an observation. Parse at the boundary: everything past here is
 * typed. A body that breaks the shape throws InvalidPayloadError; a status or protocol nobody documented
 * is kept and reported as a Warning; a port name the deployment does not have is UnknownPortError.
 *
 * | Edgegap                                              | Observation                                  |
 * |------------------------------------------------------|----------------------------------------------|
 * | `error: true`, or `Status.ERROR`                     | ended, reason error, hostState ERROR, detail  |
 * | `Status.TERMINATING`                                 | ended, reason shutdown                        |
 * | `Status.TERMINATED`                                  | ended, reason destroyed                       |
 * | `Status.READY`, or `running: true`                   | active                                        |
 * | INITIALIZING, SEEKING, SEEKED, SCANNING, DEPLOYING   | starting                                      |
 * | anything else                                        | unrecognized, with an UNKNOWN_STATUS warning  |
 *
 * Checked in that order: an error or an ending outranks `running`, as in Edgegap's own MCP server.
 */
import { InvalidPayloadError, UnknownPortError } from "../../core/errors.js";
import type { ExposedPort, PollResult, Warning } from "../../core/observation.js";
import { parseWith } from "../../core/wire-json.js";
import { DeploymentStatusSchema, EDGEGAP_STARTING_STATUSES, type DeploymentPort, type DeploymentStatus, type EdgegapStatus } from "./schemas.js";

/** Which address of a deployment players get: its DNS name or its IP. */
export type EdgegapHostField = "fqdn" | "public_ip";

export interface DeploymentStatusOptions {
  /** The app version's port players connect to: a key of `ports`. */
  readonly portName: string;
  /** Which address goes in `host`. Default `"fqdn"`. */
  readonly hostField?: EdgegapHostField | undefined;
  /** The request id asked about: a body for another deployment is an invalid payload. */
  readonly expectedRequestId?: string | undefined;
}

/**
 * `Status.READY` -> `READY`. Edgegap spells statuses `Status.X`; its MCP server also matches `STATUS_X`
 * and bare `X`, so all three are read, in any case.
 */
export function statusName(currentStatus: string): string {
  return currentStatus.trim().replace(/^status[._]/i, "").toUpperCase();
}

const STARTING: ReadonlySet<string> = new Set<EdgegapStatus>(EDGEGAP_STARTING_STATUSES);

/** `GET /v1/status/{request_id}` 200 body (or a webhook's body) -> observation. */
export function parseDeploymentStatus(body: unknown, options: DeploymentStatusOptions): PollResult {
  const status = parseWith(DeploymentStatusSchema, body, "deployment status");
  if (options.expectedRequestId !== undefined && status.request_id !== options.expectedRequestId) {
    throw new InvalidPayloadError(`deployment status is for request ${JSON.stringify(status.request_id)}, not ${JSON.stringify(options.expectedRequestId)}`);
  }
  const name = statusName(status.current_status);
  if (status.error === true || name === "ERROR") {
    const detail = status.error_detail ?? undefined;
    return {
      observation: { kind: "ended", reason: "error", hostState: "ERROR", ...(detail === undefined || detail === "" ? {} : { detail }) },
      warnings: [],
    };
  }
  if (name === "TERMINATING") return { observation: { kind: "ended", reason: "shutdown", hostState: name }, warnings: [] };
  if (name === "TERMINATED") return { observation: { kind: "ended", reason: "destroyed", hostState: name }, warnings: [] };
  const unknown = name === "READY" || STARTING.has(name) ? [] : [unknownStatus(status.current_status)];
  if (name === "READY" || status.running === true) {
    const ports = activePorts(status, options.portName, options.hostField ?? "fqdn");
    return {
      observation: { kind: "active", connection: { exposedPort: ports.exposedPort, additionalExposedPorts: ports.additional } },
      warnings: [...unknown, ...ports.warnings],
    };
  }
  if (STARTING.has(name)) return { observation: { kind: "starting" }, warnings: [] };
  return { observation: { kind: "unrecognized", status: status.current_status }, warnings: unknown };
}

function unknownStatus(value: string): Warning {
  return { code: "UNKNOWN_STATUS", value, message: `undocumented deployment status "${value}"` };
}

function activePorts(
  status: DeploymentStatus,
  portName: string,
  hostField: EdgegapHostField,
): { exposedPort: ExposedPort; additional: ExposedPort[]; warnings: Warning[] } {
  const host = status[hostField];
  if (host === undefined || host === null || host === "") {
    throw new InvalidPayloadError(`a ready deployment has no ${hostField} to connect to`);
  }
  if (status.ports === undefined || status.ports === null) {
    throw new InvalidPayloadError("a ready deployment has no ports");
  }
  const entries = Object.entries(status.ports);
  // Port keys are the app version's port names; `name` is the same name in the documented examples.
  const named = entries.find(([key]) => key === portName) ?? entries.find(([, port]) => port.name === portName);
  if (named === undefined) throw new UnknownPortError(portName, entries.map(([key]) => key), "the deployment");
  const warnings: Warning[] = [];
  const toExposed = ([key, port]: [string, DeploymentPort]): ExposedPort => {
    const transport = transportOf(port);
    if (transport.known === false) {
      warnings.push({ code: "UNKNOWN_TRANSPORT_TYPE", value: port.protocol, message: `port "${key}" has an undocumented protocol "${port.protocol}"` });
    }
    return { host, port: port.external, transportType: transport.transportType, name: key };
  };
  const exposedPort = toExposed(named);
  const additional = entries.filter((entry) => entry !== named).map(toExposed);
  return { exposedPort, additional, warnings };
}

/**
 * An Edgegap protocol as a transport: UDP is udp; TCP, HTTP and WS run on tcp, or tls when Edgegap
 * upgrades them (`tls_upgrade`); HTTPS and WSS are tls. Anything else is kept, lowercased, and reported.
 */
export function transportOf(port: Pick<DeploymentPort, "protocol" | "tls_upgrade">): { transportType: string; known: boolean } {
  const protocol = port.protocol.trim().toLowerCase();
  switch (protocol) {
    case "udp":
      return { transportType: "udp", known: true };
    case "tcp":
    case "http":
    case "ws":
      return { transportType: port.tls_upgrade === true ? "tls" : "tcp", known: true };
    case "https":
    case "wss":
      return { transportType: "tls", known: true };
    default:
      return { transportType: protocol, known: false };
  }
}
