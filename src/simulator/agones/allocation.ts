/**
 * GameServerAllocation (allocation.agones.dev/v1): parsing a request into ordered selectors and the
 * metadata patch, and the object the API answers with. Every answer (Allocated, UnAllocated,
 * Contention) is a GameServerAllocation written with 201; only a malformed request is a Status.
 */
import { z } from "zod";
import type { GameServer } from "./game-server.js";
import type { Requirement, Selector } from "./selectors.js";
import type { StatusCause } from "./status.js";

export const AllocationState = { ALLOCATED: "Allocated", UNALLOCATED: "UnAllocated", CONTENTION: "Contention" } as const;
export type AllocationState = (typeof AllocationState)[keyof typeof AllocationState];

export interface AllocationSelector {
  readonly labels: Selector;
  /** `Ready` (default) or `Allocated` (re-allocation of a server with room left). */
  readonly gameServerState: "Ready" | "Allocated";
}

export interface AllocationRequest {
  readonly selectors: readonly AllocationSelector[];
  readonly scheduling: "Packed" | "Distributed";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The request's spec, echoed back as the API does. */
  readonly spec: unknown;
}

const LabelSelectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.looseObject({
        key: z.string().min(1),
        operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  gameServerState: z.enum(["Ready", "Allocated"]).optional(),
});

const AllocationSchema = z.looseObject({
  apiVersion: z.literal("allocation.agones.dev/v1").optional(),
  kind: z.literal("GameServerAllocation").optional(),
  spec: z
    .looseObject({
      selectors: z.array(LabelSelectorSchema).optional(),
      required: LabelSelectorSchema.optional(),
      preferred: z.array(LabelSelectorSchema).optional(),
      scheduling: z.enum(["Packed", "Distributed"]).optional(),
      metadata: z
        .looseObject({
          labels: z.record(z.string(), z.string()).optional(),
          annotations: z.record(z.string(), z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
});

function toSelector(input: z.infer<typeof LabelSelectorSchema>): AllocationSelector {
  const requirements: Requirement[] = Object.entries(input.matchLabels ?? {}).map(([key, value]) => ({ op: "eq", key, value }));
  for (const expression of input.matchExpressions ?? []) {
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        requirements.push({ op: "in", key: expression.key, values });
        break;
      case "NotIn":
        requirements.push({ op: "notin", key: expression.key, values });
        break;
      case "Exists":
        requirements.push({ op: "exists", key: expression.key });
        break;
      case "DoesNotExist":
        requirements.push({ op: "absent", key: expression.key });
        break;
    }
  }
  return { labels: requirements, gameServerState: input.gameServerState ?? "Ready" };
}

export type ParsedAllocation =
  | { readonly ok: true; readonly request: AllocationRequest }
  | { readonly ok: false; readonly causes: readonly StatusCause[] };

export function parseAllocationRequest(body: unknown): ParsedAllocation {
  const parsed = AllocationSchema.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      causes: parsed.error.issues.map((issue) => ({ reason: "FieldValueInvalid", field: issue.path.join("."), message: issue.message })),
    };
  }
  const spec = parsed.data.spec ?? {};
  // `selectors` wins; the deprecated required/preferred are used only without it, preferred first.
  const inputs = spec.selectors ?? [...(spec.preferred ?? []), ...(spec.required === undefined ? [] : [spec.required])];
  return {
    ok: true,
    request: {
      selectors: (inputs.length === 0 ? [{}] : inputs).map(toSelector),
      scheduling: spec.scheduling ?? "Packed",
      labels: spec.metadata?.labels ?? {},
      annotations: spec.metadata?.annotations ?? {},
      spec,
    },
  };
}

/** The GameServerAllocation the API writes back with 201. */
export function allocationResponse(
  namespace: string,
  request: AllocationRequest,
  state: AllocationState,
  gameServer: GameServer | undefined,
  creationTimestamp: string,
): unknown {
  const base = {
    apiVersion: "allocation.agones.dev/v1",
    kind: "GameServerAllocation",
    metadata: { ...(gameServer === undefined ? {} : { name: gameServer.metadata.name }), namespace, creationTimestamp },
    spec: request.spec,
  };
  if (gameServer === undefined || state !== AllocationState.ALLOCATED) {
    return { ...base, status: { state, gameServerName: "", source: "local" } };
  }
  const { status, metadata } = gameServer;
  return {
    ...base,
    status: {
      state,
      gameServerName: metadata.name,
      ...(status.ports === null ? {} : { ports: status.ports }),
      address: status.address,
      ...(status.addresses === null ? {} : { addresses: status.addresses }),
      nodeName: status.nodeName,
      source: "local",
      metadata: { labels: metadata.labels, annotations: metadata.annotations },
    },
  };
}
