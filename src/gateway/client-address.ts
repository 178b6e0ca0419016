/**
 * Whose request it is, for the per-address limits: the peer's address, or behind a proxy the operator
 * named as trusted, the last address in X-Forwarded-For that is not such a proxy. Anyone can write
 * X-Forwarded-For: it is read only from a trusted proxy, which appends what it saw to what it got.
 */

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) as `10.0.0.1`, so each address has one spelling. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined || address === "") return "unknown";
  const lower = address.trim().toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}

export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: ReadonlySet<string>): string {
  let address = normalizeAddress(remoteAddress);
  if (!trustedProxies.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  // Right to left: each trusted proxy vouches for the hop before it; the first untrusted one is the client.
  for (let i = hops.length - 1; i >= 0 && trustedProxies.has(address); i--) address = normalizeAddress(hops[i]);
  return address;
}
