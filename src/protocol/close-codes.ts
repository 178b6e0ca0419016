/**
 * The close codes of the gateway protocol (1000-1013 from RFC 6455, 4xxx our own, mnemonic of HTTP),
 * each with what a client does after it: reconnect (with backoff), or give up, because the same client
 * sending the same thing would be closed the same way again.
 */

export const GatewayCloseCode = {
  /** The client or the gateway closed normally. */
  NORMAL: 1000,
  /** The gateway is shutting down; reconnect (to it or another instance). */
  GOING_AWAY: 1001,
  /** A binary frame: the protocol is JSON text only. */
  UNSUPPORTED_DATA: 1003,
  /** A frame larger than the gateway's `maxFrameBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** The gateway is at its connection limit; try again later. */
  TRY_AGAIN_LATER: 1013,
  /** Too many invalid messages in a row. */
  PROTOCOL_VIOLATION: 4400,
  /** No token, or not the gateway's token. Reconnecting with the same token will not help. */
  UNAUTHORIZED: 4401,
  /**
   * The room ticket was refused: forged, altered or truncated, signed with a key the gateway no longer
   * holds, malformed, too large, put in the URL, or offered to a gateway that takes none (the close
   * reason says which). Reconnecting with the same ticket will not help: get a new one.
   */
  TICKET_INVALID: 4403,
  /** The room ticket had expired (beyond the clock-skew allowance). Get a new one. */
  TICKET_EXPIRED: 4410,
  /** The client read too slowly: its send buffer passed `maxBufferedBytes`. */
  SLOW_CONSUMER: 4429,
} as const;
export type GatewayCloseCode = (typeof GatewayCloseCode)[keyof typeof GatewayCloseCode];

/** What a client does after a close: `reconnect` with backoff, or `give-up` (the cause is on its side). */
export type CloseFate = "reconnect" | "give-up";

export const CLOSE_FATE: Readonly<Record<GatewayCloseCode, CloseFate>> = {
  [GatewayCloseCode.NORMAL]: "reconnect",
  [GatewayCloseCode.GOING_AWAY]: "reconnect",
  [GatewayCloseCode.UNSUPPORTED_DATA]: "give-up",
  [GatewayCloseCode.MESSAGE_TOO_BIG]: "give-up",
  [GatewayCloseCode.TRY_AGAIN_LATER]: "reconnect",
  [GatewayCloseCode.PROTOCOL_VIOLATION]: "give-up",
  [GatewayCloseCode.UNAUTHORIZED]: "give-up",
  [GatewayCloseCode.TICKET_INVALID]: "give-up",
  [GatewayCloseCode.TICKET_EXPIRED]: "give-up",
  [GatewayCloseCode.SLOW_CONSUMER]: "reconnect",
};

/** The fate of any close code: ours from the table, anything else (1006 dropped, 1011 server error...) reconnects. */
export function closeFate(code: number): CloseFate {
  return (CLOSE_FATE as Readonly<Record<number, CloseFate | undefined>>)[code] ?? "reconnect";
}
