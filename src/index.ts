/**
 * `room-watcher`: the isomorphic core. It runs wherever `fetch` does (Node >= 20.19, browsers, Deno,
 * Bun, edge runtimes): nothing here imports a `node:` module or a Node-only package, and `ws` is
 * loaded only when a WebSocketSource connects on a runtime without a global WebSocket.
 * The gateway, the simulator and the SDK source have entries of their own.
 */
export { waitForActive, type ActiveConnection } from "./watch/wait-for-active.js";
export { RoomWatcher, type RoomWatcherOptions } from "./watch/room-watcher.js";
export { Fleet, type FleetOptions } from "./watch/fleet.js";
export { withFallback, type FallbackSource, type WithFallbackOptions } from "./watch/with-fallback.js";
export type { ActiveEvent, ErrorEvent, RoomWatcherEvents, StartingEvent, TerminatedEvent } from "./watch/events.js";
export { HathoraHttpSource, type HathoraSourceOptions } from "./providers/hathora/http-source.js";
export { WebSocketSource, type WebSocketSourceOptions } from "./sources/websocket-source.js";
export type { PollingSource, PushSource, RoomSource, SourceListener } from "./core/source.js";
export type { ExposedPort, PollResult } from "./core/observation.js";
export type { WatchEvidence } from "./core/evidence.js";
export { TerminationReason, transition, type RoomState, type RoomStatus } from "./core/room-state.js";
export {
  ConfigError,
  ErrorCode,
  GatewayError,
  HttpError,
  InvalidPayloadError,
  NetworkError,
  RateLimitedError,
  RequestTimeoutError,
  RoomTerminatedError,
  RoomWatcherError,
  WaitTimeoutError,
} from "./core/errors.js";
