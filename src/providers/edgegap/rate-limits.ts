/**
 * Edgegap's documented per-organisation rate limits, and the request budget room-watcher keeps under
 * them by default. Source: shared/reference/edgegap-deployments-api.md §7.
 */
import { ConfigError } from "../../core/errors.js";

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
 * processes sharing one token must divide it between them: `edgegapRequestsPerSecondPerProcess`.
 */
export const EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND = 16;

/**
 * Status requests per second for each of `gateways` processes that poll Edgegap with one organisation's
 * token (shared-mode gateways on one Redis, or any processes at all): the most that keeps their sum
 * under `limitPerSecond` in every sliding second, each fleet's one-request burst included, and under
 * the same four fifths as one process alone. Each fleet's token bucket can let `rate + 1` requests into
 * one second (its burst, then its rate), so N fleets need `N * (rate + 1) <= limit`:
 * `min(floor(16 / N), floor(20 / N) - 1)`: 16 for one, 8 each for two, 5 for three, 4 for four,
 * 3 for five, 2 for six, 1 each from seven to ten. A ConfigError when even 1/s each would overrun the limit (more
 * than ten): run fewer polling gateways per token.
 */
export function edgegapRequestsPerSecondPerProcess(gateways: number, limitPerSecond: number = EDGEGAP_RATE_LIMITS.status): number {
  if (!Number.isInteger(gateways) || gateways < 1) throw new ConfigError(`gateways must be a positive integer, got ${gateways}`);
  if (!Number.isInteger(limitPerSecond) || limitPerSecond < 2) throw new ConfigError(`limitPerSecond must be an integer of at least 2, got ${limitPerSecond}`);
  const headroom = Math.floor((limitPerSecond * EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND) / EDGEGAP_RATE_LIMITS.status / gateways);
  const withBursts = Math.floor(limitPerSecond / gateways) - 1;
  const perProcess = Math.min(headroom, withBursts);
  if (perProcess < 1) {
    throw new ConfigError(`${gateways} processes cannot share ${limitPerSecond} status requests/s at 1/s each with their bursts: at most ${Math.floor(limitPerSecond / 2)} may poll with one token`);
  }
  return perProcess;
}
