/**
 * Structured logs. The gateway logs through a four-method interface, so callers can plug in any
 * logger; `createJsonLogger` gives pino's JSON lines. Nothing the gateway logs carries a token: it
 * never logs headers, and pino's redaction covers the usual fields as a second line of defence.
 */
import { pino } from "pino";

export type LogFields = Readonly<Record<string, unknown>>;

export interface GatewayLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

/** Logs nothing: the default for the programmatic gateway. */
export const silentLogger: GatewayLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface JsonLoggerOptions {
  /** Default "info". */
  level?: LogLevel | undefined;
  /** Where lines go. Default stderr (stdout is the CLI's: its first line is the gateway URL). */
  destination?: NodeJS.WritableStream | undefined;
}

/** JSON lines through pino, with token-bearing fields redacted. */
export function createJsonLogger(options: JsonLoggerOptions = {}): GatewayLogger {
  const logger = pino(
    {
      level: options.level ?? "info",
      base: { service: "room-watcher-gateway" },
      redact: { paths: ["token", "authorization", "headers.authorization", "*.token", "*.authorization"], censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  };
}
