/**
 * The Kubernetes API over HTTPS, with credentials the Kubernetes way: `@kubernetes/client-node`'s
 * KubeConfig (pinned to 1.4.0: 2.0.x needs undici 8, which does not load on Node 20) reads KUBECONFIG,
 * ~/.kube/config, an explicit file or the in-cluster service account, and handles client certificates,
 * tokens, token files and exec plugins. We take from it only the TLS and auth options of each request
 * (`applyToHTTPSOptions`, re-applied per request so rotating tokens are picked up), and read the watch
 * ourselves, line by line, over node:https. Not its `Watch`: it aborts every watch 30 s after it started,
 * events flowing or not (kubernetes-client/javascript#3020), sends no `allowWatchBookmarks` or
 * `timeoutSeconds` from its informer, and its silent stalls (#364, #958) are only caught by a watchdog
 * that sees every line, bookmarks included, which is the reflector's.
 *
 * Loaded only from `room-watcher/agones`, and the client only on the first `kubeTransport()` call.
 * No credential reaches a message: errors name files, contexts and statuses, and every body we repeat has
 * the request's secrets removed first.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { type Clock, systemClock } from "../../core/clock.js";
import { parseRetryAfterMs } from "../../core/backoff.js";
import { ConfigError, InvalidPayloadError, NetworkError, RequestTimeoutError, RoomWatcherError } from "../../core/errors.js";
import { redactSecrets } from "../../core/redact.js";
import { requestDeadline } from "../../core/request-deadline.js";
import { validateDurationMs } from "../../core/validate.js";
import { parseJson } from "../../core/wire-json.js";
import { apiError, type ApiVerb } from "./api-errors.js";
import { LineReader } from "./line-reader.js";
import { validateNamespace } from "./names.js";
import { StatusSchema } from "./schemas.js";
import type { AgonesTransport } from "./transport.js";

export const DEFAULT_LIST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_LIST_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface KubeTransportOptions {
  /** A kubeconfig file. Default `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account. */
  kubeconfig?: string | undefined;
  /** The kubeconfig context to use. Default its `current-context`. */
  context?: string | undefined;
  /** Use the pod's service account (KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/...) whatever else exists. Default false. */
  inCluster?: boolean | undefined;
  /** Abort a list that takes longer than this. Default 60,000 ms. */
  listTimeoutMs?: number | undefined;
  /** Refuse a list body larger than this. Default 256 MiB (about 80,000 GameServers). */
  maxListBytes?: number | undefined;
  /** Time source for the list timeout. Default the system clock. */
  clock?: Clock | undefined;
}

export interface KubeTransport extends AgonesTransport {
  /** The context's namespace, when the kubeconfig names one. */
  readonly contextNamespace: string | undefined;
}

/** Loads the kubeconfig now: a file that does not parse, a missing context or cluster is a ConfigError here. */
export async function kubeTransport(options: KubeTransportOptions = {}): Promise<KubeTransport> {
  const { KubeConfig: KubeConfigClass } = await import("@kubernetes/client-node");
  const kc = new KubeConfigClass();
  const where = options.inCluster === true ? "the in-cluster service account" : options.kubeconfig !== undefined ? `kubeconfig ${options.kubeconfig}` : "the default kubeconfig";
  try {
    if (options.inCluster === true) kc.loadFromCluster();
    else if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    // Never the library's message: a YAML error quotes the lines around it, which may hold a token.
    throw new ConfigError(`${where} could not be read: ${loadFailure(error)}`);
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      const names = kc.getContexts().map((c) => c.name);
      throw new ConfigError(`${where} has no context "${options.context}" (its contexts: ${names.length === 0 ? "none" : names.join(", ")})`);
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || typeof cluster.server !== "string" || cluster.server === "") {
    throw new ConfigError(`${where} names no cluster for context "${kc.getCurrentContext()}"`);
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new ConfigError(`${where}: cluster "${cluster.name}" has a server that is not a URL`);
  }
  if (server.protocol !== "https:" && server.protocol !== "http:") throw new ConfigError(`${where}: cluster "${cluster.name}" server must be https`);
  const rawNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const transport = new KubeHttpTransport(kc, `${server.origin}${server.pathname.replace(/\/+$/, "")}`, rawNamespace === undefined ? undefined : validateNamespace(rawNamespace), options);
  // Builds the TLS and auth options once now, so a missing certificate file or an http:// server without
  // insecure-skip-tls-verify fails here rather than on the first watch.
  await transport.requestOptions();
  return transport;
}

function loadFailure(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (e.code === "ENOENT") return "no such file";
  if (e.code === "EACCES") return "permission denied";
  if (e.code === "EISDIR") return "it is a directory";
  if (e.name === "YAMLException") {
    const line = typeof e.mark?.line === "number" ? ` at line ${e.mark.line + 1}` : "";
    return `it does not parse as YAML${line}`;
  }
  if (error instanceof TypeError) return "it is not a kubeconfig (clusters, contexts and users are lists of named entries)";
  return `it is not a usable kubeconfig (${typeof e.name === "string" ? e.name : "error"})`;
}

class KubeHttpTransport implements KubeTransport {
  readonly server: string;
  readonly contextNamespace: string | undefined;
  readonly #kc: KubeConfig;
  readonly #clock: Clock;
  readonly #listTimeoutMs: number;
  readonly #maxListBytes: number;
  /** Whatever of the current user could leak: redacted from every body and message we repeat. */
  #secrets: string[] = [];

  constructor(kc: KubeConfig, server: string, contextNamespace: string | undefined, options: KubeTransportOptions) {
    this.#kc = kc;
    this.server = server;
    this.contextNamespace = contextNamespace;
    this.#clock = options.clock ?? systemClock;
    this.#listTimeoutMs = validateDurationMs("listTimeoutMs", options.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS, { allowZero: false });
    const maxListBytes = options.maxListBytes ?? DEFAULT_MAX_LIST_BYTES;
    if (!Number.isSafeInteger(maxListBytes) || maxListBytes <= 0) throw new ConfigError(`maxListBytes must be a positive whole number of bytes, got ${String(maxListBytes)}`);
    this.#maxListBytes = maxListBytes;
  }

  /** @internal The TLS and auth options of one request, fresh (token files and exec plugins refresh). */
  async requestOptions(): Promise<https.RequestOptions> {
    const options: https.RequestOptions = { headers: { Accept: "application/json" } };
    const user = this.#kc.getCurrentUser();
    this.#secrets = [user?.token, user?.password, user?.keyData, user?.certData].filter((s): s is string => typeof s === "string" && s !== "");
    try {
      await this.#kc.applyToHTTPSOptions(options);
    } catch (error) {
      const message = error instanceof Error ? this.#redact(error.message).slice(0, 300) : "unknown error";
      throw new ConfigError(`the kubeconfig's credentials or TLS settings could not be applied: ${message}`);
    }
    const authorization = (options.headers as Record<string, unknown> | undefined)?.Authorization ?? (options.headers as Record<string, unknown> | undefined)?.authorization;
    if (typeof authorization === "string") this.#secrets.push(authorization, authorization.replace(/^\S+\s+/, ""));
    if (typeof options.auth === "string") this.#secrets.push(options.auth);
    return options;
  }

  async list(namespace: string, signal: AbortSignal): Promise<unknown> {
    const deadline = requestDeadline(signal, this.#listTimeoutMs, this.#clock, () => new RequestTimeoutError(this.#listTimeoutMs));
    try {
      const response = await this.#get(pathOf(namespace), deadline.signal);
      try {
        if (response.statusCode !== 200) throw await this.#failure(response, "list", namespace);
        return parseJson(this.#redact(await readAll(response, this.#maxListBytes)));
      } finally {
        response.destroy();
      }
    } catch (error) {
      deadline.throwIfAborted();
      throw this.#typed(error, "list");
    } finally {
      deadline.dispose();
    }
  }

  async *watch(namespace: string, resourceVersion: string, timeoutSeconds: number, signal: AbortSignal): AsyncIterable<unknown> {
    const query = new URLSearchParams({ watch: "1", resourceVersion, allowWatchBookmarks: "true", timeoutSeconds: String(timeoutSeconds) });
    let response: http.IncomingMessage;
    try {
      response = await this.#get(`${pathOf(namespace)}?${query.toString()}`, signal);
    } catch (error) {
      signal.throwIfAborted();
      throw this.#typed(error, "watch");
    }
    try {
      if (response.statusCode !== 200) throw await this.#failure(response, "watch", namespace);
      const lines = new LineReader(DEFAULT_MAX_EVENT_BYTES);
      const iterator = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (error) {
          signal.throwIfAborted();
          throw this.#typed(error, "watch");
        }
        if (next.done === true) break;
        for (const line of lines.push(next.value)) yield parseJson(this.#redact(line));
      }
      for (const line of lines.end()) yield parseJson(this.#redact(line));
    } finally {
      response.destroy();
    }
  }

  async #get(path: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    const options = await this.requestOptions();
    signal.throwIfAborted();
    const url = new URL(`${this.server}${path}`);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...options, method: "GET", signal }, resolve);
      request.on("error", reject);
      request.end();
    });
  }

  async #failure(response: http.IncomingMessage, verb: ApiVerb, namespace: string): Promise<RoomWatcherError> {
    const status = response.statusCode ?? 0;
    let body: unknown;
    try {
      body = JSON.parse(this.#redact(await readAll(response, MAX_ERROR_BODY_BYTES)));
    } catch {
      body = undefined;
    }
    const parsed = StatusSchema.safeParse(body);
    const retryAfterMs = parseRetryAfterMs(headerOf(response, "retry-after"), this.#clock.now());
    return apiError(status, parsed.success ? parsed.data : undefined, { verb, namespace, retryAfterMs });
  }

  #typed(error: unknown, verb: ApiVerb): unknown {
    if (error instanceof RoomWatcherError) return error;
    const code = (error as { code?: unknown }).code;
    const what = typeof code === "string" ? code : error instanceof Error ? this.#redact(error.message).slice(0, 200) : "unknown error";
    return new NetworkError(`${verb} of GameServers at ${this.server} failed: ${what}`, { hint: typeof code === "string" ? NETWORK_HINTS[code] : undefined });
  }

  #redact(text: string): string {
    return redactSecrets(text, this.#secrets);
  }
}

const NETWORK_HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "nothing accepts connections there: is the kubeconfig's server right, and the API server up?",
  ENOTFOUND: "the API server's host name does not resolve",
  ECONNRESET: "the API server closed the connection",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the API server's certificate is self-signed: put its CA in the kubeconfig",
  SELF_SIGNED_CERT_IN_CHAIN: "the API server's certificate is not signed by the kubeconfig's CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the API server's certificate could not be verified against the kubeconfig's CA",
  ERR_TLS_CERT_ALTNAME_INVALID: "the API server's certificate is for another host name",
};

function pathOf(namespace: string): string {
  return `/apis/agones.dev/v1/namespaces/${encodeURIComponent(namespace)}/gameservers`;
}

function headerOf(response: http.IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readAll(response: http.IncomingMessage, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new InvalidPayloadError(`response body exceeds the ${maxBytes}-byte limit`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}
