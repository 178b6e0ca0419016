/**
 * The ports the Fetch standard blocks ("bad ports"): fetch refuses them before connecting, with a
 * bare "bad port" error that retrying can never get past. A base URL on one of them is bad input,
 * refused when the source is made (test/core/fetch-ports.test.ts checks this list against the running
 * Node's fetch).
 */
import { ConfigError } from "./errors.js";

export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113,
  115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556,
  563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
  6668, 6669, 6679, 6697, 10080,
]);

/** Throws ConfigError when fetch would refuse every request to `url` for its port. */
export function assertFetchablePort(optionName: string, url: string): void {
  const parsed = new URL(url);
  const port = parsed.port === "" ? undefined : Number(parsed.port);
  if (port !== undefined && FETCH_BAD_PORTS.has(port)) {
    throw new ConfigError(`${optionName} uses port ${port}, which fetch refuses to connect to (a "bad port" in the Fetch standard); use another port`);
  }
}
