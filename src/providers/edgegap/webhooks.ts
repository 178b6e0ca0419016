/**
 * Edgegap's deployment webhooks (`webhook_on_ready`, `webhook_on_error`, `webhook_on_terminated`), as
 * hints. Edgegap signs nothing and documents no retry, so a webhook proves nothing and may never come:
 * its URL carries a secret (which keeps strangers from spending the poll budget), and a call that passes
 * is only worth one verifying poll of the deployment it names. Its body is never believed.
 *
 * A gateway route is then: `const { requestId } = readWebhook({ path, body, secret })`, hint the room,
 * answer 204; a WebhookError answers 404 (`bad_secret`, `bad_path`: say nothing) or 400 (`bad_body`).
 */
import type { WebhookReceiver } from "../../core/webhook-receiver.js";
import { ConfigError, WebhookError } from "../../core/errors.js";
import { validateBaseUrl } from "../../core/validate.js";
import { EDGEGAP_REQUEST_ID_PATTERN, type BasicWebhook } from "./schemas.js";

/** The three deployment events Edgegap can call a URL for. */
export const EDGEGAP_WEBHOOK_EVENTS = ["ready", "error", "terminated"] as const;
export type EdgegapWebhookEvent = (typeof EDGEGAP_WEBHOOK_EVENTS)[number];

/** Where webhook paths start, below the gateway's base URL: `/webhooks/edgegap/<secret>/<event>`. */
export const EDGEGAP_WEBHOOK_PATH_PREFIX = "/webhooks/edgegap";

/** A secret too short to guess in a URL's lifetime: at least 16 URL-safe characters ([A-Za-z0-9_-]). */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** `secret` when it can go in a webhook path; else a ConfigError (that never repeats the secret). */
export function validateWebhookSecret(secret: unknown): string {
  if (typeof secret !== "string" || !SECRET_PATTERN.test(secret)) {
    throw new ConfigError("webhook secret must be 16..256 characters of [A-Za-z0-9_-] (for example 32 random bytes as base64url)");
  }
  return secret;
}

/** The URL Edgegap calls on `event`: `<gatewayUrl>/webhooks/edgegap/<secret>/<event>`. */
export function edgegapWebhookUrl(gatewayUrl: string, secret: string, event: EdgegapWebhookEvent): string {
  if (!EDGEGAP_WEBHOOK_EVENTS.includes(event)) throw new ConfigError(`unknown webhook event ${JSON.stringify(String(event))}`);
  const base = validateBaseUrl(gatewayUrl.replace(/^ws(s?):/i, "http$1:"));
  return `${base}${EDGEGAP_WEBHOOK_PATH_PREFIX}/${validateWebhookSecret(secret)}/${event}`;
}

/** The `webhook_on_*` fields of a `POST /v2/deployments` body, every one pointing at the gateway. */
export function edgegapWebhooks(gatewayUrl: string, secret: string): {
  webhook_on_ready: BasicWebhook;
  webhook_on_error: BasicWebhook;
  webhook_on_terminated: BasicWebhook;
} {
  return {
    webhook_on_ready: { url: edgegapWebhookUrl(gatewayUrl, secret, "ready") },
    webhook_on_error: { url: edgegapWebhookUrl(gatewayUrl, secret, "error") },
    webhook_on_terminated: { url: edgegapWebhookUrl(gatewayUrl, secret, "terminated") },
  };
}

/**
 * Whether two strings are equal, in time that depends on their lengths only, not on where they first
 * differ (so a forger cannot find the secret a character at a time). Runs wherever JavaScript does.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  let difference = presented.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= (i < presented.length ? presented.charCodeAt(i) : 0) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}

/**
 * The secret and event of a webhook path (`/webhooks/edgegap/<secret>/<event>`, below `prefix`), or a
 * WebhookError: `bad_path` for any other path, `bad_secret` when the secret is not `expectedSecret`.
 */
export function matchWebhookPath(path: string, expectedSecret: string, prefix = EDGEGAP_WEBHOOK_PATH_PREFIX): EdgegapWebhookEvent {
  const pathname = path.split("?")[0] ?? "";
  const head = `${prefix.replace(/\/+$/, "")}/`;
  if (!pathname.startsWith(head)) throw new WebhookError("bad_path", "not an Edgegap webhook path");
  const [secret, event, ...rest] = pathname.slice(head.length).split("/");
  if (secret === undefined || event === undefined || rest.length > 0 || !(EDGEGAP_WEBHOOK_EVENTS as readonly string[]).includes(event)) {
    throw new WebhookError("bad_path", "not an Edgegap webhook path");
  }
  // Never say what was presented: a message is logged, and the path holds the secret's guess.
  if (!secretsEqual(secret, expectedSecret)) throw new WebhookError("bad_secret", "the webhook secret is wrong");
  return event as EdgegapWebhookEvent;
}

/**
 * The request id a webhook's body names: the body is the deployment's status (Nakama reads it so; no spec
 * says), of which only `request_id` is read. A WebhookError (`bad_body`) when it is not JSON, names no
 * request id, or one that could not be an Edgegap request id.
 */
export function parseWebhookBody(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new WebhookError("bad_body", "webhook body is not JSON", { cause: error });
  }
  const requestId = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as { request_id?: unknown }).request_id : undefined;
  if (typeof requestId !== "string") throw new WebhookError("bad_body", "webhook body has no request_id");
  if (!EDGEGAP_REQUEST_ID_PATTERN.test(requestId)) {
    throw new WebhookError("bad_body", `webhook body's request_id ${JSON.stringify(requestId.slice(0, 40))} is not an Edgegap request id`);
  }
  return requestId;
}

/** A webhook call, checked: the secret first (a wrong one reads no body), then the body. */
export function readWebhook(call: { readonly path: string; readonly body: string; readonly secret: string; readonly prefix?: string | undefined }): {
  readonly requestId: string;
  readonly event: EdgegapWebhookEvent;
} {
  const event = matchWebhookPath(call.path, call.secret, call.prefix);
  return { requestId: parseWebhookBody(call.body), event };
}

/** The gateway's side of the webhooks: calls under `prefix` carrying `secret`, each read as a hint for its deployment. */
export function edgegapWebhookReceiver(secret: string, prefix = EDGEGAP_WEBHOOK_PATH_PREFIX): WebhookReceiver {
  validateWebhookSecret(secret);
  return {
    prefix: `${prefix.replace(/\/+$/, "")}/`,
    read: (path, body) => readWebhook({ path, body, secret, prefix }).requestId,
  };
}
