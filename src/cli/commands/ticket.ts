/**
 * `room-watcher ticket`: mint a room ticket, as a backend would with mintTicket, and print it. For
 * scripts and trying a gateway out; a backend mints its own, per player, in code.
 */
import { type Command, Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import { MAX_TICKET_TTL_MS, mintTicket, ticketKeyId, validateTicketSecret } from "../../gateway/ticket.js";
import { parseDuration } from "../args.js";
import { ExitCode } from "../exit-codes.js";
import { TICKET_FLAG_NAMES } from "../flag-names.js";
import { guarded } from "../guarded.js";
import { type CliIo, line } from "../io.js";

export interface TicketCliOptions {
  secret?: string | undefined;
  room?: string[] | undefined;
  ttl?: number | undefined;
  keyId?: string | undefined;
  json: boolean;
}

const HELP = `
Prints the ticket (with --json: {ticket, rooms, keyId, expiresAtMs}). A browser presents it as the
WebSocket subprotocol entry ticket.<ticket> beside room-watcher.v1 (see docs/gateway.md, Room tickets);
the gateway started with the same --ticket-secret admits it to these rooms only, until it expires.
Give the secret through ROOM_WATCHER_TICKET_SECRET rather than --secret: a flag shows in ps.

Examples:
  $ export ROOM_WATCHER_TICKET_SECRET="$(openssl rand -base64 32)"
  $ room-watcher ticket --room 2swovpy1fnunu --ttl 10m
  $ room-watcher ticket --room a --room b --ttl 60s --json`;

export function registerTicketCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("ticket")
    .description("mint a signed room ticket for a browser (or any client that cannot send the token) and print it")
    .addOption(new Option("--secret <secret>", "the gateway's ticket secret (its --ticket-secret); at least 32 characters, never printed").env("ROOM_WATCHER_TICKET_SECRET"))
    .addOption(new Option("--room <id...>", "a room the ticket admits to (repeat for more, at most 32)"))
    .addOption(new Option("--ttl <duration>", `how long the ticket admits connections: 60s, 10m, 1h (at most ${MAX_TICKET_TTL_MS / 3_600_000}h)`).argParser(parseDuration))
    .addOption(new Option("--key-id <id>", "the key id to sign under (default: derived from the secret, as the gateway expects for a bare secret)"))
    .option("--json", "print {ticket, rooms, keyId, expiresAtMs}", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText("after", HELP)
    .action(async (options: TicketCliOptions) => setExit(await guarded(io, { json: options.json, secrets: [options.secret], flagNames: TICKET_FLAG_NAMES }, () => runTicket(options, io))));
}

export function runTicket(options: TicketCliOptions, io: CliIo): Promise<number> {
  // Each missing input named by its flag; the library's messages name the rest (retold as flags).
  if (options.secret === undefined) throw new ConfigError("--secret (or ROOM_WATCHER_TICKET_SECRET) is required: the gateway's ticket secret");
  if (options.room === undefined) throw new ConfigError("--room is required: the rooms the ticket admits to");
  if (options.ttl === undefined) throw new ConfigError("--ttl is required: how long the ticket admits connections (60s, 10m, ...)");
  const secret = validateTicketSecret("--secret (ROOM_WATCHER_TICKET_SECRET)", options.secret);
  const now = Date.now();
  const ticket = mintTicket({ secret, rooms: options.room, ttlMs: options.ttl, keyId: options.keyId, now });
  if (options.json) {
    const rooms = [...new Set(options.room)];
    line(io.stdout, JSON.stringify({ ticket, rooms, keyId: options.keyId ?? ticketKeyId(secret), expiresAtMs: Math.ceil(now + options.ttl) }));
  } else {
    line(io.stdout, ticket);
  }
  return Promise.resolve(ExitCode.OK);
}
