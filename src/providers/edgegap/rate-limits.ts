/**
 * Edgegap's documented per-organisation rate limits, and the request budget room-watcher keeps under
 * them by default. Source: shared/reference/edgegap-deployments-api.md §7.
 */

/** Requests per second Edgegap allows one organisation, by endpoint. */
export const EDGEGAP_RATE_LIMITS = Object.freeze({
  /** `POST /v2/deployments`. */
  createDeployment: 40,
  /** `GET /v1/status/{request_id}`: what a watch polls. */
  status: 20,
  /** `GET /v1/deployments`. */
  listDeployments: 10,
});

/**
 * Default status requests per second for one process watching Edgegap deployments: 16, four fifths of
 * the organisation's 20/s. The limit is the organisation's, not the process's: the dashboard, a
 * matchmaker or a deploy script of the same organisation poll the same endpoint, and a token bucket's
 * edges let a few more requests into one wall-clock second than its rate. 4/s of headroom covers both,
 * and at 16/s the fleet's burst (a twentieth of the rate, at least 1) is a single request. Several
 * processes sharing one token must divide it between them (the gateway's shared mode).
 */
export const EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND = 16;
