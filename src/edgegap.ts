/**
 * `room-watcher/edgegap`: Edgegap deployments as rooms. The status source, its request budget, the
 * status mapping and the webhook helpers. Runs wherever `fetch` does, like the core entry.
 */
export {
  EDGEGAP_DEFAULT_BASE_URL,
  EdgegapHttpSource,
  type EdgegapSourceOptions,
} from "./providers/edgegap/http-source.js";
export { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND, EDGEGAP_RATE_LIMITS, edgegapRequestsPerSecondPerProcess } from "./providers/edgegap/rate-limits.js";
export { parseDeploymentStatus, type DeploymentStatusOptions, type EdgegapHostField } from "./providers/edgegap/parse.js";
export { EdgegapStatus, type DeploymentStatus } from "./providers/edgegap/schemas.js";
export {
  EDGEGAP_WEBHOOK_EVENTS,
  EDGEGAP_WEBHOOK_PATH_PREFIX,
  edgegapWebhookReceiver,
  edgegapWebhooks,
  edgegapWebhookUrl,
  readWebhook,
  secretsEqual,
  type EdgegapWebhookEvent,
} from "./providers/edgegap/webhooks.js";
export { UnknownPortError, WebhookError, type WebhookErrorReason } from "./core/errors.js";
/** The request budget a source declares (Edgegap's: `EdgegapHttpSource#budget`); any polling source may. */
export type { RequestBudget } from "./core/source.js";
