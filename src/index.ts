export { ErrorCode, RoomWatcherError, type RoomWatcherErrorOptions, ConfigError, InvalidPayloadError, HttpError, RateLimitedError, NetworkError, RequestTimeoutError, WaitTimeoutError, RoomTerminatedError } from "./errors.js";
export * from "./wire/schemas.js";
// The room-info status; `RoomStatus` is the watcher's state.
export type { RoomStatus as RoomInfoStatus } from "./wire/schemas.js";
export { parseConnectionInfoV1, parseConnectionInfoV2 } from "./wire/parse.js";
export type { Connection, Observation, PollResult, Warning } from "./core/observation.js";
export {
  ALLOWED_TRANSITIONS,
  TerminationReason,
  initialState,
  isTerminal,
  transition,
  type RoomInput,
  type RoomState,
  type RoomStatus,
  type RoomTransitionEvent,
  type Transition,
} from "./core/room-state.js";
export { type Clock, systemClock } from "./core/clock.js";
export { parseRetryAfterMs, type PollScheduleOptions, type RetryScheduleOptions } from "./core/backoff.js";
export { isPushSource, type PollingSource, type PushSource, type RoomSource, type SourceListener, type TransientFailure } from "./sources/source.js";
export { DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, HathoraHttpSource, type HathoraSourceOptions } from "./sources/hathora-http.js";
export { DEFAULT_NOT_FOUND_GRACE_MS, DEFAULT_POLL_OPTIONS, DEFAULT_TIMEOUT_MS, type PollOptions, type ResolvedPollOptions } from "./watch/options.js";
export type { ActiveEvent, ErrorEvent, RoomWatcherEvents, StartingEvent, StatusEvent, TerminatedEvent, WarningEvent } from "./watch/events.js";
export {
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_REQUESTS_PER_SECOND,
  Fleet,
  type FleetEvents,
  type FleetOptions,
  type FleetStats,
  type FleetWatchOptions,
  getDefaultFleet,
  type PausedEvent,
  type Subscription,
} from "./watch/fleet.js";
export { ActivationModel, type ActivationModelOptions, type LearnedScheduleOptions } from "./core/activation-model.js";
export { type QueuedTurn, RequestScheduler, type RequestSchedulerOptions, Urgency } from "./core/request-scheduler.js";
export { type TimerHandle, TimerHeap } from "./core/timer-heap.js";
export type { RoomPollPlacement } from "./watch/room-poll.js";
export { RoomWatcher, type RoomWatcherOptions } from "./watch/room-watcher.js";
export { type ActiveConnection, type WaitForActiveOptions, waitForActive } from "./watch/wait-for-active.js";
export { Simulator, type Clock as SimulatorClock, type CreateRoomOptions, type SimulatorListenOptions, type SimulatorOptions, type TransitionHook } from "./simulator/simulator.js";
export { Endpoint } from "./simulator/server.js";
export type { FaultOptions, RateLimitFault } from "./simulator/faults.js";
export type { HintCounts, HintTarget } from "./simulator/hints.js";
export { Scenario, type RoomTruth, type TruthEntry, type TruthStatus } from "./simulator/world.js";
export { ClusterError, GatewayError, type GatewayErrorReason } from "./errors.js";
export {
  DEFAULT_SHUTDOWN_GRACE_MS,
  Gateway,
  type GatewayClosingEvent,
  type GatewayEvents,
  type GatewayHealth,
  type GatewayOptions,
  type GatewayRedisEvent,
  type GatewayStats,
} from "./gateway/server.js";
export { DEFAULT_LEASE_TTL_MS, type GatewayRedisOptions, type RedisLinkState } from "./gateway/redis/options.js";
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type ResolvedGatewayLimits } from "./gateway/limits.js";
export { createJsonLogger, type GatewayLogger, type JsonLoggerOptions, type LogFields, type LogLevel } from "./gateway/logging.js";
export {
  ClientMessageSchema,
  GATEWAY_SUBPROTOCOL,
  GatewayCloseCode,
  ProtocolErrorCode,
  ServerMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from "./gateway/protocol.js";
export { DEFAULT_HINT_TIMEOUT_MS, type ReadyHintOptions, sendReadyHint } from "./gateway/hint-client.js";
export {
  DEFAULT_FALLBACK_AFTER_MS,
  WebSocketSource,
  type DisconnectedEvent,
  type WebSocketSourceEvents,
  type WebSocketSourceOptions,
} from "./sources/websocket-source.js";
