/**
 * The Edgegap deployments API wire types, as zod schemas with their inferred types.
 * Source of truth: shared/reference/edgegap-deployments-api.md. Objects are not strict (fields a newer
 * or an older API sends are dropped, not rejected), and where the sources disagree both sides parse:
 * the 2026 spec's required fields are optional here, the 2024 spec's extra fields (sockets, sessions,
 * ports.*.proxy) are tolerated, and `current_status` is an open enum.
 */
import { z } from "zod";
import { validateId } from "../../core/validate.js";

/**
 * Edgegap request ids are short hex strings (`c0653765de3b`); none is documented longer or with other
 * characters, but the API is the judge: anything safe in a URL path segment goes.
 */
export const EDGEGAP_REQUEST_ID_PATTERN = /^[a-zA-Z0-9_-]{1,100}$/;
const EDGEGAP_REQUEST_ID_RULE = "1..100 characters of [a-zA-Z0-9_-]";

/** An Edgegap request id (a deployment's id: room-watcher's room id), or a ConfigError naming `what`. */
export function validateRequestId(value: unknown, what = "request id"): string {
  return validateId(what, value, EDGEGAP_REQUEST_ID_PATTERN, EDGEGAP_REQUEST_ID_RULE);
}

/** `current_status` values found in Edgegap's own code, without their `Status.` prefix. No source gives an enum. */
export const EdgegapStatus = {
  INITIALIZING: "INITIALIZING",
  SEEKING: "SEEKING",
  SEEKED: "SEEKED",
  SCANNING: "SCANNING",
  DEPLOYING: "DEPLOYING",
  READY: "READY",
  ERROR: "ERROR",
  TERMINATING: "TERMINATING",
  TERMINATED: "TERMINATED",
} as const;
export type EdgegapStatus = (typeof EdgegapStatus)[keyof typeof EdgegapStatus];

/** Statuses before READY, in the order the simulator plays them (the real order is not documented). */
export const EDGEGAP_STARTING_STATUSES: readonly EdgegapStatus[] = ["INITIALIZING", "SEEKING", "SEEKED", "SCANNING", "DEPLOYING"];

/** A status as the API spells it: `Status.READY`. */
export function wireStatus(status: EdgegapStatus): string {
  return `Status.${status}`;
}

/** One entry of `ports`, keyed by the app version's port name. */
export const DeploymentPortSchema = z.object({
  /** The port players connect to. The 2026 spec bounds it to 0..59999; any TCP/UDP port is accepted. */
  external: z.int().min(0).max(65_535),
  /** `UDP`, `TCP`, `TCP/UDP`, `HTTP`, `HTTPS`, `WS`, `WSS` (case varies between sources). Open enum. */
  protocol: z.string().min(1),
  internal: z.int().min(0).max(65_535).optional(),
  name: z.string().optional(),
  link: z.string().nullable().optional(),
  /** Only with HTTP and WS ports: Edgegap terminates TLS in front of the server. */
  tls_upgrade: z.boolean().nullable().optional(),
});
export type DeploymentPort = z.infer<typeof DeploymentPortSchema>;

/** `GET /v1/status/{request_id}` 200 body (V1DeploymentStatus); also the body of a v2 webhook call (inferred from Nakama's use). */
export const DeploymentStatusSchema = z.object({
  request_id: z.string().min(1),
  current_status: z.string().min(1),
  fqdn: z.string().nullable().optional(),
  public_ip: z.string().nullable().optional(),
  running: z.boolean().nullable().optional(),
  error: z.boolean().nullable().optional(),
  error_detail: z.string().nullable().optional(),
  last_status: z.string().nullable().optional(),
  ports: z.record(z.string(), DeploymentPortSchema).nullable().optional(),
});
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;

/** A webhook target of a create call. */
export const BasicWebhookSchema = z.object({ url: z.string().min(1) });
export type BasicWebhook = z.infer<typeof BasicWebhookSchema>;

/** `POST /v2/deployments` request body (DeploymentV2): the fields the simulator checks. */
export const CreateDeploymentSchema = z.object({
  application: z.string().min(1),
  version: z.string().min(1),
  users: z
    .array(
      z.object({
        user_type: z.string().min(1),
        user_data: z.record(z.string(), z.unknown()),
      }),
    )
    .min(1),
  environment_variables: z.array(z.object({ key: z.string(), value: z.string(), is_hidden: z.boolean() })).optional(),
  tags: z.array(z.string()).optional(),
  require_cached_locations: z.boolean().nullable().optional(),
  webhook_on_ready: BasicWebhookSchema.optional(),
  webhook_on_error: BasicWebhookSchema.optional(),
  webhook_on_terminated: BasicWebhookSchema.optional(),
});
export type CreateDeployment = z.infer<typeof CreateDeploymentSchema>;

/** `POST /v2/deployments` 202 body: only the id, no address yet. */
export const DeploymentAcceptedSchema = z.object({ request_id: z.string().min(1) });
export type DeploymentAccepted = z.infer<typeof DeploymentAcceptedSchema>;

/** Error body: v1 `{message}`, v2 `{message, details}`. */
export const EdgegapErrorSchema = z.object({ message: z.string(), details: z.record(z.string(), z.unknown()).optional() });
export type EdgegapError = z.infer<typeof EdgegapErrorSchema>;
