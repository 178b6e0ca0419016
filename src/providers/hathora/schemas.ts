/**
 * The Hathora rooms API wire types, as zod schemas with their inferred types.
 * Source of truth: shared/reference/hathora-rooms-api.md. Objects are not strict: fields a newer
 * backend adds are dropped, not rejected. Open enums (transport type, statuses) accept any string;
 * `unknownEnumValues()` in ./parse.ts reports the values we do not know.
 */
import { z } from "zod";
import type { TransportType } from "../../core/observation.js";
import { validateId } from "../../core/validate.js";

/** Hathora documents room ids and app ids as 1..100 characters of `[a-zA-Z0-9_-]`. */
export const HATHORA_ID_PATTERN = /^[a-zA-Z0-9_-]{1,100}$/;
const HATHORA_ID_RULE = "1..100 characters of [a-zA-Z0-9_-]";
export const RoomIdSchema = z.string().regex(HATHORA_ID_PATTERN, `must be ${HATHORA_ID_RULE}`);

/** A Hathora room id or app id (`what`), or a ConfigError naming it. */
export function validateHathoraId(what: "room id" | "app id", value: unknown): string {
  return validateId(what, value, HATHORA_ID_PATTERN, HATHORA_ID_RULE);
}

export const KNOWN_TRANSPORT_TYPES = ["tcp", "udp", "tls"] as const;
export type KnownTransportType = (typeof KNOWN_TRANSPORT_TYPES)[number];
export const TransportTypeSchema = z.string().min(1) as z.ZodType<TransportType>;

export const ExposedPortSchema = z.object({
  transportType: TransportTypeSchema,
  port: z.int().min(0).max(65_535),
  host: z.string().min(1),
  name: z.string(),
});

export const KNOWN_ROOM_READY_STATUSES = ["starting", "active"] as const;
/** Statuses some older backends send; room-watcher treats them as terminal. */
export const LEGACY_TERMINAL_STATUSES = ["suspended", "destroyed"] as const;
/** ConnectionInfoV2 status (older SDKs: ConnectionInfoV2Status, newer: RoomReadyStatus). Open enum. */
export type RoomReadyStatus = (typeof KNOWN_ROOM_READY_STATUSES)[number] | (string & {});
export const RoomReadyStatusSchema = z.string().min(1) as z.ZodType<RoomReadyStatus>;

const connectionInfoV2Shape = {
  additionalExposedPorts: z.array(ExposedPortSchema).max(2),
  exposedPort: ExposedPortSchema.optional(),
  status: RoomReadyStatusSchema,
  roomId: z.string().min(1),
};

function requirePortWhenActive(value: { status: string; exposedPort?: unknown }, ctx: z.RefinementCtx): void {
  if (value.status === "active" && value.exposedPort === undefined) {
    ctx.addIssue({ code: "custom", path: ["exposedPort"], message: "exposedPort is required when status is active" });
  }
}

export const ConnectionInfoV2Schema = z.object(connectionInfoV2Shape).superRefine(requirePortWhenActive);
export type ConnectionInfoV2 = z.infer<typeof ConnectionInfoV2Schema>;

/** Create-room response: ConnectionInfoV2 plus the process the room landed on. */
export const RoomConnectionDataSchema = z
  .object({ ...connectionInfoV2Shape, processId: z.string().min(1) })
  .superRefine(requirePortWhenActive);
export type RoomConnectionData = z.infer<typeof RoomConnectionDataSchema>;

/** Resume-room response: ConnectionInfoV2 plus, optionally, the process. */
export const ResumeRoomResponseSchema = z
  .object({ ...connectionInfoV2Shape, processId: z.string().min(1).optional() })
  .superRefine(requirePortWhenActive);
export type ResumeRoomResponse = z.infer<typeof ResumeRoomResponseSchema>;

export const StartingConnectionInfoSchema = z.object({
  status: z.literal("starting"),
  roomId: z.string().min(1),
});
export type StartingConnectionInfo = z.infer<typeof StartingConnectionInfoSchema>;

export const ActiveConnectionInfoSchema = z.object({
  status: z.literal("active"),
  transportType: TransportTypeSchema,
  port: z.int().min(0).max(65_535),
  host: z.string().min(1),
  roomId: z.string().min(1),
});
export type ActiveConnectionInfo = z.infer<typeof ActiveConnectionInfoSchema>;

/** v1 connection info with an unknown status: tolerated and reported like v2's. */
const OtherConnectionInfoV1Schema = z.object({
  status: z.string().min(1).refine((s) => s !== "starting" && s !== "active"),
  roomId: z.string().min(1),
});
export const ConnectionInfoV1Schema = z.union([
  StartingConnectionInfoSchema,
  ActiveConnectionInfoSchema,
  OtherConnectionInfoV1Schema,
]);
export type ConnectionInfoV1 = z.infer<typeof ConnectionInfoV1Schema>;

export const RoomAllocationSchema = z.object({
  roomAllocationId: z.string().min(1),
  processId: z.string().min(1),
  scheduledAt: z.iso.datetime({ offset: true }),
  unscheduledAt: z.iso.datetime({ offset: true }).nullable(),
});
export type RoomAllocation = z.infer<typeof RoomAllocationSchema>;

export const KNOWN_ROOM_STATUSES = ["scheduling", "active", "suspended", "destroyed"] as const;
/** Room (info) status: `scheduling | active | destroyed`, `suspended` in the older spec. Open enum. */
export type RoomStatus = (typeof KNOWN_ROOM_STATUSES)[number] | (string & {});

const roomShape = {
  roomId: z.string().min(1),
  appId: z.string().min(1),
  status: z.string().min(1) as z.ZodType<RoomStatus>,
  currentAllocation: RoomAllocationSchema.nullable(),
  roomConfig: z.string().max(10_000).nullable().optional(),
};
export const RoomSchema = z.object({ ...roomShape, allocations: z.array(RoomAllocationSchema) });
export type Room = z.infer<typeof RoomSchema>;

/** Rooms of a process (list active / inactive): Room without `allocations`. */
export const RoomWithoutAllocationsSchema = z.object(roomShape);
export type RoomWithoutAllocations = z.infer<typeof RoomWithoutAllocationsSchema>;

/** Body of every 4xx/5xx answer. */
export const ApiErrorSchema = z.object({ message: z.string() });
export type ApiError = z.infer<typeof ApiErrorSchema>;

export const REGIONS = [
  "Seattle",
  "Los_Angeles",
  "Washington_DC",
  "Chicago",
  "London",
  "Frankfurt",
  "Mumbai",
  "Singapore",
  "Tokyo",
  "Sydney",
  "Sao_Paulo",
  "Dallas",
  "Johannesburg",
  "Dubai",
] as const;
export type Region = (typeof REGIONS)[number];
export const RegionSchema = z.enum(REGIONS);

/** Create-room request body. */
export const CreateRoomParamsSchema = z.object({
  region: RegionSchema,
  roomConfig: z.string().max(10_000).optional(),
  deploymentId: z.string().min(1).optional(),
  clientIPs: z.array(z.string()).optional(),
});
export type CreateRoomParams = z.infer<typeof CreateRoomParamsSchema>;
