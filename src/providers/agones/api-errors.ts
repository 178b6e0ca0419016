/**
 * What a Kubernetes API answer that is not a success means, as a typed error: 401/403 name the RBAC verb
 * that is missing, 429 carries Retry-After (the header, or the Status's `retryAfterSeconds`), 410 says the
 * resourceVersion expired (the reflector relists), and 5xx are retryable HttpErrors.
 */
import { AccessDeniedError, HttpError, RateLimitedError, type RoomWatcherError } from "../../core/errors.js";
import type { Status } from "./schemas.js";

/** The resource the Role must grant, as `kubectl auth can-i` spells it. */
export const GAMESERVERS_RESOURCE = "gameservers.agones.dev";

/** What the reflector asks the API server to do. */
export type ApiVerb = "list" | "watch";

export const RBAC_HINT = `the Role needs the verbs get, list and watch on ${GAMESERVERS_RESOURCE} (see docs/providers/agones.md)`;

export interface ApiErrorContext {
  readonly verb: ApiVerb;
  readonly namespace: string;
  /** From the Retry-After header, when the answer had one. */
  readonly retryAfterMs?: number | undefined;
}

/** The error for an answer with HTTP status `httpStatus` (or an in-stream ERROR event) and its Status body, if any. */
export function apiError(httpStatus: number, status: Status | undefined, context: ApiErrorContext): RoomWatcherError {
  const message = status?.message?.slice(0, 500);
  if (httpStatus === 401 || httpStatus === 403) {
    return new AccessDeniedError(httpStatus, context.verb, `${GAMESERVERS_RESOURCE} in namespace "${context.namespace}"`, message, {
      hint: httpStatus === 401 ? "check the kubeconfig's user: its token or certificate was refused" : RBAC_HINT,
    });
  }
  if (httpStatus === 429) {
    const fromStatus = status?.details?.retryAfterSeconds;
    return new RateLimitedError(context.retryAfterMs ?? (fromStatus === undefined ? undefined : Math.max(0, fromStatus) * 1000), message);
  }
  return new HttpError(httpStatus, message);
}

/** Whether `error` says the resourceVersion we asked for is gone (HTTP 410): relist. */
export function isGone(error: unknown): boolean {
  return error instanceof HttpError && error.status === 410;
}
