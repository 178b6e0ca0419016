/**
 * The Kubernetes and Agones wire shapes we read, as zod schemas: a GameServer, a GameServerList, a watch
 * event and a metav1.Status. Source of truth: shared/reference/agones-gameservers-api.md. Objects are not
 * strict (what a newer Agones adds is dropped); open enums (state, protocol, event type, address type)
 * accept any string, and the mapping reports the values it does not know. Nullable where Go omits
 * nothing (`status.ports`, `status.addresses` can be `null`).
 */
import { z } from "zod";

/** Every `status.state` Agones documents [S1 gameserver.go]. */
export const GameServerState = {
  PORT_ALLOCATION: "PortAllocation",
  CREATING: "Creating",
  STARTING: "Starting",
  SCHEDULED: "Scheduled",
  REQUEST_READY: "RequestReady",
  READY: "Ready",
  SHUTDOWN: "Shutdown",
  ERROR: "Error",
  UNHEALTHY: "Unhealthy",
  RESERVED: "Reserved",
  ALLOCATED: "Allocated",
} as const;
export type KnownGameServerState = (typeof GameServerState)[keyof typeof GameServerState];

const stringMap = z.record(z.string(), z.string()).nullish();

export const ObjectMetaSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap,
  annotations: stringMap,
  deletionTimestamp: z.string().nullish(),
});

export const GameServerSpecPortSchema = z.object({
  name: z.string().optional(),
  portPolicy: z.string().optional(),
  containerPort: z.number().int().optional(),
  hostPort: z.number().int().optional(),
  /** `UDP` (the default), `TCP` or `TCPUDP`; open. */
  protocol: z.string().optional(),
});

export const GameServerStatusPortSchema = z.object({
  name: z.string().optional(),
  port: z.number().int().min(0).max(65_535),
});

export const NodeAddressSchema = z.object({
  /** `ExternalDNS`, `ExternalIP`, `InternalDNS`, `InternalIP`, `Hostname`, `PodIP`; open. */
  type: z.string(),
  address: z.string(),
});

export const GameServerSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMetaSchema,
  spec: z.object({ ports: z.array(GameServerSpecPortSchema).nullish() }).nullish(),
  status: z
    .object({
      state: z.string().optional(),
      ports: z.array(GameServerStatusPortSchema).nullish(),
      address: z.string().nullish(),
      addresses: z.array(NodeAddressSchema).nullish(),
    })
    .nullish(),
});
export type GameServer = z.infer<typeof GameServerSchema>;

/** A list: its items are parsed one by one, so one malformed GameServer does not hide the others. */
export const GameServerListSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().min(1) }),
  items: z.array(z.unknown()).nullable(),
});

/** metav1.Status: the body of an error answer, and the object of an ERROR watch event. */
export const StatusSchema = z.object({
  kind: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
  /** `Expired` or `Gone` with code 410 when a resourceVersion is too old. */
  reason: z.string().optional(),
  code: z.number().int().optional(),
  details: z.object({ retryAfterSeconds: z.number().optional() }).nullish(),
});
export type Status = z.infer<typeof StatusSchema>;

/** One line of a watch stream, before its object is read. */
export const WatchEventEnvelopeSchema = z.object({
  type: z.string().min(1),
  object: z.unknown(),
});

/** A BOOKMARK's object: only its resourceVersion counts. */
export const BookmarkObjectSchema = z.object({ metadata: z.object({ resourceVersion: z.string().min(1) }) });
