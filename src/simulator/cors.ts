/**
 * Cross-origin access to a simulated API, as a public API that browsers call answers it: any origin, no
 * cookies (the token travels in `Authorization`, so `*` is allowed and enough), a preflight that names the
 * methods and the request headers a client sends, and the response headers a client must read (a 429's
 * `Retry-After`) exposed. Only for APIs whose real host allows it: see docs/simulator.md, "CORS".
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface CorsPolicy {
  /** Methods a preflight allows. */
  readonly methods: readonly string[];
  /** Request headers a preflight allows. `*` would not cover `Authorization`, so they are named. */
  readonly requestHeaders: readonly string[];
  /** Response headers beyond the CORS-safelisted ones that scripts may read. */
  readonly exposedHeaders: readonly string[];
  /** How long a browser may cache a preflight's answer, in seconds (the header's own unit). */
  readonly maxAgeSeconds: number;
}

/** Sets the headers every answer carries (errors included: a browser hides the status of an answer without them). */
export function applyCors(res: ServerResponse, policy: CorsPolicy): void {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-expose-headers", policy.exposedHeaders.join(", "));
  res.setHeader("vary", "origin");
}

/** Whether `req` is a CORS preflight (OPTIONS with Access-Control-Request-Method), which carries no credentials. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && typeof req.headers["access-control-request-method"] === "string";
}

/** Answers a preflight: 204 with what may be sent. Headers set by applyCors() stay. */
export function answerPreflight(res: ServerResponse, policy: CorsPolicy): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(204, {
    "access-control-allow-methods": policy.methods.join(", "),
    "access-control-allow-headers": policy.requestHeaders.join(", "),
    "access-control-max-age": String(policy.maxAgeSeconds),
    "content-length": "0",
  });
  res.end();
}
