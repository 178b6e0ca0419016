/**
 * Kubernetes `metav1.Status` error bodies, shaped like the apiserver's (apimachinery errors.go), so a
 * client that reads `code`, `reason` and `details.retryAfterSeconds` sees what a real cluster sends.
 */

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string | undefined;
}

export interface KubeStatus {
  readonly kind: "Status";
  readonly apiVersion: "v1";
  readonly metadata: Record<string, never>;
  readonly status: "Failure";
  readonly message: string;
  readonly reason: string;
  readonly details?: {
    readonly name?: string | undefined;
    readonly group?: string | undefined;
    readonly kind?: string | undefined;
    readonly causes?: readonly StatusCause[] | undefined;
    readonly retryAfterSeconds?: number | undefined;
  };
  readonly code: number;
}

/** The resource a Status is about, as the apiserver names it: `gameservers.agones.dev`. */
export interface ResourceRef {
  readonly group: string;
  readonly plural: string;
  /** Kind, for Invalid: `GameServer`. */
  readonly kind: string;
}

export const GAME_SERVERS: ResourceRef = { group: "agones.dev", plural: "gameservers", kind: "GameServer" };
export const ALLOCATIONS: ResourceRef = { group: "allocation.agones.dev", plural: "gameserverallocations", kind: "GameServerAllocation" };

function failure(code: number, reason: string, message: string, details?: KubeStatus["details"]): KubeStatus {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details === undefined ? {} : { details }), code };
}

export function notFound(resource: ResourceRef, name: string): KubeStatus {
  return failure(404, "NotFound", `${resource.plural}.${resource.group} "${name}" not found`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

export function alreadyExists(resource: ResourceRef, name: string): KubeStatus {
  return failure(409, "AlreadyExists", `${resource.plural}.${resource.group} "${name}" already exists`, {
    name,
    group: resource.group,
    kind: resource.plural,
  });
}

export function invalid(resource: ResourceRef, name: string, causes: readonly StatusCause[]): KubeStatus {
  const detail = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`)).join(", ");
  return failure(422, "Invalid", `${resource.kind}.${resource.group} "${name}" is invalid: ${detail}`, {
    name,
    group: resource.group,
    kind: resource.kind,
    causes,
  });
}

export function badRequest(message: string): KubeStatus {
  return failure(400, "BadRequest", message);
}

export function unauthorized(): KubeStatus {
  return failure(401, "Unauthorized", "Unauthorized");
}

/** The apiserver's RBAC refusal, naming the user, verb, resource and namespace as kubectl users know it. */
export function forbidden(resource: ResourceRef, user: string, verb: string, namespace: string | undefined, name?: string): KubeStatus {
  const target = name === undefined ? resource.plural : `${resource.plural} "${name}"`;
  const where = namespace === undefined ? "at the cluster scope" : `in the namespace "${namespace}"`;
  return failure(
    403,
    "Forbidden",
    `${target}.${resource.group} is forbidden: User "${user}" cannot ${verb} resource "${resource.plural}" in API group "${resource.group}" ${where}`,
    { ...(name === undefined ? {} : { name }), group: resource.group, kind: resource.plural },
  );
}

export function methodNotAllowed(method: string): KubeStatus {
  return failure(405, "MethodNotAllowed", `the server does not allow this method on the requested resource (${method})`);
}

/** What a too-old resourceVersion gets (NewResourceExpired), in a watch ERROR event or as an HTTP 410. */
export function expired(requestedRv: string, oldestRv: string): KubeStatus {
  return failure(410, "Expired", `too old resource version: ${requestedRv} (${oldestRv})`);
}

export function tooManyRequests(retryAfterSeconds: number | undefined): KubeStatus {
  return failure(
    429,
    "TooManyRequests",
    "Too many requests, please try again later.",
    retryAfterSeconds === undefined ? undefined : { retryAfterSeconds },
  );
}

const REASON_BY_CODE: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** A Status for an injected error of any code. */
export function statusOfCode(code: number, message: string): KubeStatus {
  return failure(code, REASON_BY_CODE[code] ?? (code >= 500 ? "InternalError" : "BadRequest"), message);
}
