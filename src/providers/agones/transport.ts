/**
 * How the reflector reaches the Kubernetes API: a list and a watch of GameServers in one namespace. The
 * kubeconfig transport speaks HTTPS; tests inject their own, so the reflector's timing runs on a fake clock
 * with no socket. Failures are RoomWatcherErrors: AccessDeniedError (401/403), RateLimitedError (429),
 * HttpError (410 Gone, 5xx, ...), NetworkError, InvalidPayloadError; an abort rejects with `signal.reason`.
 */
export interface AgonesTransport {
  /** The API server, for keys and messages (an origin: never a credential). */
  readonly server: string;
  /** `GET .../namespaces/{namespace}/gameservers`: the GameServerList body, as decoded JSON. */
  list(namespace: string, signal: AbortSignal): Promise<unknown>;
  /**
   * `GET .../gameservers?watch=1&resourceVersion=&allowWatchBookmarks=true&timeoutSeconds=`: each line of the
   * stream as decoded JSON, until the server ends it (the iterator returns) or it fails (the iterator throws).
   */
  watch(namespace: string, resourceVersion: string, timeoutSeconds: number, signal: AbortSignal): AsyncIterable<unknown>;
}
