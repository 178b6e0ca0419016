/**
 * `room-watcher/gateway` (Node only): the gateway that watches each room upstream once and pushes it to
 * every WebSocket subscriber, its Redis shared mode, logging, and the readiness-hint sender game
 * servers use.
 */
export { DEFAULT_SHUTDOWN_GRACE_MS, Gateway, type GatewayAddress, type GatewayHealth, type GatewayOptions, type GatewayPhase, type GatewayStats } from "./server.js";
export type { GatewayClosingEvent, GatewayEvents, GatewayRedisEvent } from "./server.js";
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type ResolvedGatewayLimits } from "./limits.js";
export { DEFAULT_LEASE_TTL_MS, type GatewayRedisOptions, type RedisLinkState } from "./redis/options.js";
export { createJsonLogger, type GatewayLogger, type JsonLoggerOptions, type LogFields, type LogLevel } from "./logging.js";
export { ClientMessageSchema, GATEWAY_SUBPROTOCOL, ProtocolErrorCode, ServerMessageSchema, type ClientMessage, type ServerMessage } from "../protocol/messages.js";
export { GatewayCloseCode } from "../protocol/close-codes.js";
export {
  KEY_ID_PATTERN,
  MAX_TICKET_CHARS,
  MAX_TICKET_ROOMS,
  MAX_TICKET_TTL_MS,
  MIN_TICKET_SECRET_CHARS,
  mintTicket,
  type MintTicketOptions,
  TICKET_CLOCK_SKEW_MS,
  type TicketGrant,
  type TicketKey,
  TicketKeyring,
  ticketKeyId,
  verifyTicket,
  type VerifyTicketOptions,
} from "./ticket.js";
export { ticketSubprotocol, TICKET_SUBPROTOCOL_PREFIX } from "../protocol/ticket-format.js";
export { sendReadyHint, DEFAULT_HINT_INITIAL_RETRY_DELAY_MS, DEFAULT_HINT_TIMEOUT_MS, type ReadyHintOptions } from "../sources/ready-hint.js";
export { ClusterError, InvalidStateError, TicketError, type TicketErrorReason } from "../core/errors.js";
export type { WebhookReceiver } from "../core/webhook-receiver.js";
