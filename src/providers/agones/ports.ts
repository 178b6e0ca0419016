/**
 * Where players connect to a GameServer: the host from `status.address` (or the first address of a chosen
 * type in `status.addresses`), the port from `status.ports` (a named one, or the first), its transport from
 * the `spec.ports[]` entry of the same name. A TCPUDP port is split by Agones into `<name>-tcp` and
 * `<name>-udp` with the same port [S3, S4]: looked up by its original name it yields both, one as the
 * exposed port and the other first among the additional ones.
 */
import { ConfigError, InvalidPayloadError, UnknownPortError } from "../../core/errors.js";
import type { Connection, ExposedPort, Warning } from "../../core/observation.js";
import type { GameServer } from "./schemas.js";

export const KNOWN_PROTOCOLS = ["UDP", "TCP", "TCPUDP"] as const;
/** Agones's default when a spec port gives no protocol [S1 l.465]. */
const DEFAULT_PROTOCOL = "UDP";

export interface PortChoice {
  /** The `status.ports` entry to expose (its original name finds a TCPUDP pair). Default the first. */
  readonly portName: string | undefined;
  /** Take the host from the first `status.addresses` entry of this type (`InternalIP`, `PodIP`, ...). Default `status.address`. */
  readonly addressType: string | undefined;
}

interface StatusPort {
  readonly name: string;
  readonly port: number;
  readonly transportType: string;
}

/**
 * The connection of a GameServer in an active state, with warnings for protocols nobody documented.
 * Throws ConfigError when the chosen port name or address type is not there (it names what is), and
 * InvalidPayloadError when the server has no address or no ports at all (Agones fills them at Scheduled,
 * so the next change brings them).
 */
export function connectionOf(gameServer: GameServer, choice: PortChoice): { connection: Connection; warnings: Warning[] } {
  const name = gameServer.metadata.name;
  const host = hostOf(gameServer, choice.addressType);
  const { ports, warnings } = statusPorts(gameServer);
  if (ports.length === 0) throw new InvalidPayloadError(`GameServer ${name} is active but has no status.ports`);
  const chosen = choose(ports, choice.portName, name);
  const exposed = chosen.map((p): ExposedPort => ({ host, port: p.port, transportType: p.transportType, name: p.name }));
  const others = ports.filter((p) => !chosen.includes(p)).map((p): ExposedPort => ({ host, port: p.port, transportType: p.transportType, name: p.name }));
  const [exposedPort, ...pair] = exposed as [ExposedPort, ...ExposedPort[]];
  return { connection: { exposedPort, additionalExposedPorts: [...pair, ...others] }, warnings };
}

function hostOf(gameServer: GameServer, addressType: string | undefined): string {
  const name = gameServer.metadata.name;
  const status = gameServer.status;
  if (addressType === undefined) {
    const address = status?.address ?? "";
    if (address === "") throw new InvalidPayloadError(`GameServer ${name} is active but has no status.address`);
    return address;
  }
  const addresses = status?.addresses ?? [];
  const found = addresses.find((a) => a.type === addressType && a.address !== "");
  if (found !== undefined) return found.address;
  const types = [...new Set(addresses.map((a) => a.type))];
  throw new ConfigError(`GameServer ${name} has no address of type "${addressType}" (its address types: ${types.length === 0 ? "none" : types.join(", ")})`);
}

/** The chosen entry, or its `-tcp`/`-udp` pair when the name is a TCPUDP port's original name. */
function choose(ports: readonly StatusPort[], portName: string | undefined, serverName: string): StatusPort[] {
  if (portName === undefined) {
    const first = ports[0] as StatusPort;
    const sibling = siblingOf(first, ports);
    return sibling === undefined ? [first] : [first, sibling];
  }
  const exact = ports.find((p) => p.name === portName);
  if (exact !== undefined) return [exact];
  const split = ports.filter((p) => p.name === `${portName}-tcp` || p.name === `${portName}-udp`);
  if (split.length > 0) return split;
  throw new UnknownPortError(portName, ports.map((p) => p.name), `GameServer ${serverName}`);
}

/** `game-udp` for `game-tcp` (and the other way round) when both carry the same port. */
function siblingOf(port: StatusPort, ports: readonly StatusPort[]): StatusPort | undefined {
  const match = /^(.*)-(tcp|udp)$/.exec(port.name);
  if (match === null) return undefined;
  const other = `${match[1] ?? ""}-${match[2] === "tcp" ? "udp" : "tcp"}`;
  return ports.find((p) => p.name === other && p.port === port.port);
}

/**
 * `status.ports` with each one's transport. An unsplit TCPUDP entry (an Agones that did not rewrite it) is
 * split here the way Agones would, so every version looks the same.
 */
function statusPorts(gameServer: GameServer): { ports: StatusPort[]; warnings: Warning[] } {
  const specPorts = gameServer.spec?.ports ?? [];
  const ports: StatusPort[] = [];
  const warnings: Warning[] = [];
  (gameServer.status?.ports ?? []).forEach((entry, index) => {
    const name = entry.name ?? (index === 0 ? "default" : `port-${index}`);
    const split = /^(.*)-(tcp|udp)$/.exec(name);
    const spec = specPorts.find((p) => p.name === name) ?? (split === null ? undefined : specPorts.find((p) => p.name === split[1] && p.protocol === "TCPUDP"));
    const protocol = spec?.protocol ?? DEFAULT_PROTOCOL;
    if (protocol === "TCPUDP") {
      if (split !== null) ports.push({ name, port: entry.port, transportType: split[2] as string });
      else ports.push({ name: `${name}-tcp`, port: entry.port, transportType: "tcp" }, { name: `${name}-udp`, port: entry.port, transportType: "udp" });
      return;
    }
    if (!(KNOWN_PROTOCOLS as readonly string[]).includes(protocol)) {
      warnings.push({ code: "UNKNOWN_TRANSPORT_TYPE", value: protocol, message: `port "${name}" has an undocumented protocol "${protocol}"` });
    }
    ports.push({ name, port: entry.port, transportType: protocol.toLowerCase() });
  });
  return { ports, warnings };
}
