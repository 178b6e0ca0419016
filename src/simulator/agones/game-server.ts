/**
 * The GameServer object (agones.dev/v1) as the simulator stores and serves it, and the validation of a
 * GameServer sent to create, answering Invalid (422) causes like Agones' webhook and the CRD schema do.
 * Pure: no clock, no randomness (the world passes times and drawn values in).
 */
import { z } from "zod";
import { GameServerState } from "../../providers/agones/schemas.js";
import type { StatusCause } from "./status.js";

// The states the fake serves are the ones the provider reads: one table, in the provider's wire schemas.
export { GameServerState };
export type GameServerState = (typeof GameServerState)[keyof typeof GameServerState];

export type PortPolicy = "Dynamic" | "Static" | "Passthrough" | "None";
export type PortProtocol = "UDP" | "TCP" | "TCPUDP";

export interface GameServerPort {
  readonly name: string;
  readonly portPolicy: PortPolicy;
  readonly range?: string | undefined;
  readonly container?: string | undefined;
  readonly containerPort?: number | undefined;
  readonly hostPort?: number | undefined;
  readonly protocol: PortProtocol;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface GameServer {
  readonly apiVersion: "agones.dev/v1";
  readonly kind: "GameServer";
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion: string;
    readonly generation: number;
    readonly creationTimestamp: string;
    readonly deletionTimestamp?: string | undefined;
    readonly generateName?: string | undefined;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly finalizers: readonly string[];
  };
  readonly spec: {
    readonly container: string;
    readonly ports: readonly GameServerPort[];
    readonly health: { readonly disabled: boolean; readonly periodSeconds: number; readonly failureThreshold: number; readonly initialDelaySeconds: number };
    readonly scheduling: "Packed" | "Distributed";
    readonly sdkServer: { readonly logLevel: string; readonly grpcPort: number; readonly httpPort: number };
    readonly template: unknown;
  };
  readonly status: {
    readonly state: GameServerState;
    /** No omitempty upstream: null until ports are allocated. */
    readonly ports: readonly { readonly name: string; readonly port: number }[] | null;
    readonly address: string;
    readonly addresses: readonly NodeAddress[] | null;
    readonly nodeName: string;
    readonly reservedUntil: null;
    readonly players: null;
  };
}

/** Agones' finalizer, added on defaulting; a delete waits for the controller to remove it. */
export const FINALIZER = "agones.dev/controller";
/** Prefix the SDK puts before every label and annotation key it sets. */
export const SDK_PREFIX = "agones.dev/sdk-";
const DEFAULT_CONTAINER = "game-server";

/** A DNS-1123 subdomain, which object names must be. */
export const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_NAME_LENGTH = 253;
/** A DNS-1123 label, which namespaces must be. */
export const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const PortSchema = z.looseObject({
  name: z.string().optional(),
  portPolicy: z.enum(["Dynamic", "Static", "Passthrough", "None"]).optional(),
  range: z.string().optional(),
  container: z.string().optional(),
  containerPort: z.number().int().min(1).max(65_535).optional(),
  hostPort: z.number().int().min(1).max(65_535).optional(),
  protocol: z.enum(["UDP", "TCP", "TCPUDP"]).optional(),
});

const StringMap = z.record(z.string(), z.string());

const CreateSchema = z.looseObject({
  apiVersion: z.literal("agones.dev/v1").optional(),
  kind: z.literal("GameServer").optional(),
  metadata: z
    .looseObject({
      name: z.string().optional(),
      generateName: z.string().optional(),
      namespace: z.string().optional(),
      labels: StringMap.optional(),
      annotations: StringMap.optional(),
    })
    .optional(),
  spec: z
    .looseObject({
      container: z.string().optional(),
      ports: z.array(PortSchema).optional(),
      template: z.unknown().optional(),
    })
    .optional(),
});

/** What create keeps of a valid request; the world fills in the rest. */
export interface GameServerRequest {
  readonly name: string | undefined;
  readonly generateName: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly container: string;
  readonly ports: readonly GameServerPort[];
  readonly template: unknown;
}

export type ParsedRequest =
  | { readonly ok: true; readonly request: GameServerRequest }
  | { readonly ok: false; readonly name: string; readonly causes: readonly StatusCause[] };

function nameCauses(name: string, field: string): StatusCause[] {
  if (name.length > MAX_NAME_LENGTH) return [{ reason: "FieldValueInvalid", field, message: `Invalid value: "${name}": must be no more than 253 characters` }];
  if (!OBJECT_NAME.test(name)) {
    return [{
      reason: "FieldValueInvalid",
      field,
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    }];
  }
  return [];
}

/** Validates a GameServer to create, applying Agones' defaults (Dynamic UDP port named "default"). */
export function parseGameServerRequest(body: unknown): ParsedRequest {
  const parsed = CreateSchema.safeParse(body);
  if (!parsed.success) {
    const rawName = typeof body === "object" && body !== null ? (body as { metadata?: { name?: unknown } }).metadata?.name : undefined;
    const name = typeof rawName === "string" ? rawName : "";
    return {
      ok: false,
      name,
      causes: parsed.error.issues.map((issue) => ({ reason: "FieldValueInvalid", field: issue.path.join("."), message: issue.message })),
    };
  }
  const { metadata = {}, spec = {} } = parsed.data;
  const name = metadata.name;
  const generateName = metadata.generateName;
  const shownName = name ?? generateName ?? "";
  const causes: StatusCause[] = [];
  if (name === undefined && generateName === undefined) {
    causes.push({ reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" });
  }
  if (name !== undefined) causes.push(...nameCauses(name, "metadata.name"));
  if (generateName !== undefined) causes.push(...nameCauses(`${generateName}x`, "metadata.generateName"));
  const container = spec.container ?? DEFAULT_CONTAINER;
  const inputPorts = spec.ports ?? [{ name: "default" }];
  const ports: GameServerPort[] = [];
  const seen = new Set<string>();
  inputPorts.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    const portName = port.name ?? (i === 0 ? "default" : "");
    const portPolicy = port.portPolicy ?? "Dynamic";
    if (portName === "") causes.push({ reason: "FieldValueRequired", field: `${field}.name`, message: "Required value" });
    if (seen.has(portName)) causes.push({ reason: "FieldValueDuplicate", field: `${field}.name`, message: `Duplicate value: "${portName}"` });
    seen.add(portName);
    if (portPolicy === "Static" && port.hostPort === undefined) {
      causes.push({ reason: "FieldValueRequired", field: `${field}.hostPort`, message: "Required value: a Static port needs a hostPort" });
    }
    if (portPolicy !== "Static" && portPolicy !== "None" && port.hostPort !== undefined) {
      causes.push({ reason: "FieldValueForbidden", field: `${field}.hostPort`, message: `Forbidden: hostPort cannot be set with portPolicy ${portPolicy}` });
    }
    ports.push({
      name: portName,
      portPolicy,
      ...(portPolicy === "Dynamic" || portPolicy === "Passthrough" ? { range: port.range ?? "default" } : {}),
      container,
      ...(port.containerPort === undefined ? { containerPort: 7654 } : { containerPort: port.containerPort }),
      ...(port.hostPort === undefined ? {} : { hostPort: port.hostPort }),
      protocol: port.protocol ?? "UDP",
    });
  });
  if (causes.length > 0) return { ok: false, name: shownName, causes };
  return {
    ok: true,
    request: {
      name,
      generateName,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      container,
      ports,
      template: spec.template ?? { spec: { containers: [{ name: container, image: "room-watcher/simulated-game:latest" }] } },
    },
  };
}

/**
 * The ports after allocation: `hostPort` filled in from `hostPortOf`, and a TCPUDP port split into
 * `<name>-tcp` (TCP) and an appended `<name>-udp` (UDP) on the same host port, as the port allocator does.
 */
export function allocatePorts(ports: readonly GameServerPort[], hostPortOf: (port: GameServerPort) => number): GameServerPort[] {
  const allocated: GameServerPort[] = [];
  const udpHalves: GameServerPort[] = [];
  for (const port of ports) {
    const hostPort = port.portPolicy === "Static" || port.portPolicy === "None" ? port.hostPort : hostPortOf(port);
    const containerPort = port.portPolicy === "Passthrough" ? hostPort : port.containerPort;
    const withPorts: GameServerPort = {
      ...port,
      ...(hostPort === undefined ? {} : { hostPort }),
      ...(containerPort === undefined ? {} : { containerPort }),
    };
    if (port.protocol === "TCPUDP") {
      allocated.push({ ...withPorts, name: `${port.name}-tcp`, protocol: "TCP" });
      udpHalves.push({ ...withPorts, name: `${port.name}-udp`, protocol: "UDP" });
    } else {
      allocated.push(withPorts);
    }
  }
  return [...allocated, ...udpHalves];
}

/** `status.ports`: name and port only; policy None reports the container port. */
export function statusPorts(ports: readonly GameServerPort[]): { name: string; port: number }[] {
  return ports.map((p) => ({ name: p.name, port: (p.portPolicy === "None" ? p.containerPort : p.hostPort) ?? 0 }));
}

/** The initial state on defaulting: PortAllocation when a port needs one, else Creating. */
export function initialState(ports: readonly GameServerPort[]): GameServerState {
  return ports.some((p) => p.portPolicy === "Dynamic" || p.portPolicy === "Passthrough") ? GameServerState.PORT_ALLOCATION : GameServerState.CREATING;
}

export function newGameServer(input: {
  readonly namespace: string;
  readonly name: string;
  readonly generateName: string | undefined;
  readonly uid: string;
  readonly rv: string;
  readonly creationTimestamp: string;
  readonly request: GameServerRequest;
}): GameServer {
  const { request } = input;
  return {
    apiVersion: "agones.dev/v1",
    kind: "GameServer",
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: input.uid,
      resourceVersion: input.rv,
      generation: 1,
      creationTimestamp: input.creationTimestamp,
      ...(input.generateName === undefined ? {} : { generateName: input.generateName }),
      labels: { ...request.labels },
      annotations: { ...request.annotations },
      finalizers: [FINALIZER],
    },
    spec: {
      container: request.container,
      ports: request.ports,
      health: { disabled: false, periodSeconds: 5, failureThreshold: 3, initialDelaySeconds: 5 },
      scheduling: "Packed",
      sdkServer: { logLevel: "Info", grpcPort: 9357, httpPort: 9358 },
      template: request.template,
    },
    status: {
      state: initialState(request.ports),
      ports: null,
      address: "",
      addresses: null,
      nodeName: "",
      reservedUntil: null,
      players: null,
    },
  };
}
