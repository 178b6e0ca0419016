/**
 * `room-watcher gateway`: watch each room upstream once and push it to every WebSocket subscriber.
 * The first stdout line is the WebSocket URL; logs are JSON lines on stderr; SIGTERM or Ctrl-C closes
 * every client with 1001 and exits 0.
 */
import { type Command, Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import { validateToken } from "../../core/validate.js";
import { Gateway } from "../../gateway/server.js";
import { validateTicketSecret } from "../../gateway/ticket.js";
import { DEFAULT_GATEWAY_LIMITS } from "../../gateway/limits.js";
import { createJsonLogger, type LogLevel } from "../../gateway/logging.js";
import { DEFAULT_LEASE_TTL_MS, redisUrlSecrets } from "../../gateway/redis/options.js";
import { DEFAULT_MAX_IN_FLIGHT, Fleet } from "../../watch/fleet.js";
import { DEFAULT_POLL_OPTIONS } from "../../watch/options.js";
import { parseNonNegativeInt, parsePort, parsePositiveInt, parsePositiveMs } from "../args.js";
import { ExitCode } from "../exit-codes.js";
import { GATEWAY_FLAG_NAMES } from "../flag-names.js";
import { guarded } from "../guarded.js";
import { type CliIo, line } from "../io.js";
import { addUpstreamOptions, providerOf, upstreamOf, upstreamSecrets } from "../providers/index.js";
import type { WebhookReceiver } from "../../core/webhook-receiver.js";

/** Besides these, the provider's own flags (`--app-id`, `--namespace`, ...), read by the provider: src/cli/providers/. */
export interface GatewayCliOptions {
  /** `--provider`: where rooms live. Default hathora. */
  provider?: string | undefined;
  baseUrl?: string | undefined;
  /** The old name of --base-url, still accepted. */
  upstream?: string | undefined;
  /** The provider's token, as for wait and watch. */
  token?: string | undefined;
  /** The old name of --token, still accepted. */
  upstreamToken?: string | undefined;
  /** Where --base-url and --token came from ("cli", "env", ...): a flag beats the environment, and a --token flag may be meant for clients, as it was before 0.2. */
  sources?: { readonly baseUrl: string | undefined; readonly token: string | undefined } | undefined;
  port: number;
  host: string;
  clientToken?: string | undefined;
  hintToken?: string | undefined;
  /** The secret in the path the host's webhooks call (Edgegap). */
  webhookSecret?: string | undefined;
  allowedOrigin?: string[] | undefined;
  maxConnections?: number | undefined;
  maxSubscriptions?: number | undefined;
  maxFrameBytes?: number | undefined;
  maxBufferedBytes?: number | undefined;
  heartbeatInterval?: number | undefined;
  handshakeTimeout?: number | undefined;
  maxPendingSockets?: number | undefined;
  maxPendingPerAddress?: number | undefined;
  maxFailedAuths?: number | undefined;
  maxUnseenRooms?: number | undefined;
  maxRooms?: number | undefined;
  trustedProxy?: string[] | undefined;
  metricsToken?: string | undefined;
  /** The secret room tickets are signed with. */
  ticketSecret?: string | undefined;
  /** During a rotation, the secret before it, still accepted. */
  ticketSecretPrevious?: string | undefined;
  /** Serve the live dashboard at /dashboard; needs --metrics-token. */
  dashboard?: boolean | undefined;
  /** Default: the provider's. */
  maxRequestsPerSecond?: number | undefined;
  maxInFlight: number;
  activePollInterval?: number | undefined;
  redis?: string | undefined;
  leaseTtl?: number | undefined;
  instanceId?: string | undefined;
  logLevel: LogLevel;
}

const HELP = `
The first line printed is the gateway's WebSocket URL. Clients connect with the subprotocol
room-watcher.v1 (see docs/protocol.md); GET /healthz and GET /metrics (Prometheus) and
POST /hints/{roomId} share the port. Logs are JSON lines on stderr. SIGTERM or Ctrl-C closes
every client with 1001 (going away) and exits 0. Tokens are never printed or logged.

GET /healthz says ok, degraded (200, with reasons: a failing upstream, Redis disconnected) or draining
(503, while shutting down). At start the gateway asks the upstream once, so a wrong --base-url is
logged at warn at once.

Dashboard (--dashboard, with --metrics-token): open http://<host>:<port>/dashboard#token=<metrics token>
in a browser. The token stays in the fragment, which browsers never send; the page sends it as a
header with each request for the figures (GET /dashboard/api/snapshot), which it polls once a second.

Shared mode (--redis): every gateway started with the same Redis and upstream shares one upstream
watch per room, whichever gateway a client reached. A room's owner holds a lease (--lease-ttl); if it
dies, another gateway takes its rooms over as its lease lapses. The Redis password is never
printed or logged. Without Redis for a lease TTL, each gateway watches its rooms on its own until
Redis is back. /healthz adds instanceId and redis (up or down).

Examples:
  $ room-watcher simulate --port 4000 &
  $ room-watcher gateway --base-url http://127.0.0.1:4000 --app-id app-1 --port 4100
  $ ROOM_WATCHER_GATEWAY_TOKEN=s3cret room-watcher gateway --base-url https://api.hathora.dev --app-id "$APP"
  $ curl -s http://127.0.0.1:4100/metrics | grep room_watcher_gateway_rooms
  $ bash scripts/redis.sh start                    # prints redis://127.0.0.1:<port>
  $ room-watcher gateway --base-url http://127.0.0.1:4000 --app-id app-1 --port 4101 --redis redis://127.0.0.1:6379 &
  $ room-watcher gateway --base-url http://127.0.0.1:4000 --app-id app-1 --port 4102 --redis redis://127.0.0.1:6379 &
  $ ROOM_WATCHER_REDIS_URL='redis://:s3cret@cache.internal:6379/0' room-watcher gateway --base-url https://api.hathora.dev --app-id "$APP"

Renamed in 0.2: --upstream is --base-url and --upstream-token is --token (the old names still work);
the clients' token, once --token, is --client-token (ROOM_WATCHER_GATEWAY_TOKEN, as before).`;

/** Adds `gateway` to the program; `setExit` receives its exit code. */
export function registerGatewayCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  addUpstreamOptions(
    program.command("gateway").description("push room changes to WebSocket subscribers, watching each room upstream once; the first line printed is its ws URL"),
  )
    .addOption(new Option("--upstream <url>").hideHelp())
    .addOption(new Option("--upstream-token <token>").hideHelp())
    .addOption(new Option("--port <n>", "port to listen on (0: any free port)").argParser(parsePort).default(0))
    .addOption(new Option("--host <hostname>", "interface to listen on").default("127.0.0.1"))
    .addOption(new Option("--client-token <token>", "token clients must present (Authorization: Bearer); without it, any client may connect").env("ROOM_WATCHER_GATEWAY_TOKEN"))
    .addOption(new Option("--hint-token <token>", "token game servers present with readiness hints; without it, hints are off").env("ROOM_WATCHER_HINT_TOKEN"))
    .addOption(new Option("--webhook-secret <secret>", "Edgegap: take its webhook_on_* calls under /webhooks/edgegap/<secret>/, each a hint (16+ characters of [A-Za-z0-9_-]; never printed)").env("ROOM_WATCHER_WEBHOOK_SECRET"))
    .addOption(new Option("--allowed-origin <origin...>", "web pages whose browsers may connect (e.g. https://play.example.com), others get 403; without it, any page may"))
    // No .default(): left out, the gateway fits it under the process's descriptor limit.
    .addOption(new Option("--max-connections <n>", `open connections (default: ${DEFAULT_GATEWAY_LIMITS.maxConnections}, or less to fit the descriptor limit)`).argParser(parsePositiveInt))
    .addOption(new Option("--max-subscriptions <n>", "rooms per connection").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxSubscriptionsPerConnection))
    .addOption(new Option("--max-frame-bytes <n>", "largest client frame; larger closes with 1009").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxFrameBytes))
    .addOption(new Option("--max-buffered-bytes <n>", "send buffer per connection; past it, 4429 slow consumer").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxBufferedBytes))
    .addOption(new Option("--heartbeat-interval <ms>", "ping interval, 0 for none").argParser(parseNonNegativeInt).default(DEFAULT_GATEWAY_LIMITS.heartbeatIntervalMs))
    // Abuse limits (issue 18): no .default() where the gateway fits the default under the descriptor limit.
    .addOption(new Option("--handshake-timeout <ms>", "time a socket has to complete its WebSocket handshake (or send a request's headers)").argParser(parsePositiveMs).default(DEFAULT_GATEWAY_LIMITS.handshakeTimeoutMs))
    .addOption(new Option("--max-pending-sockets <n>", `sockets not yet upgraded (default: ${DEFAULT_GATEWAY_LIMITS.maxPendingSockets}, or less to fit the descriptor limit)`).argParser(parsePositiveInt))
    .addOption(new Option("--max-pending-per-address <n>", "sockets not yet upgraded from one client address").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxPendingSocketsPerAddress))
    .addOption(new Option("--max-failed-auths <n>", "wrong tokens (and 4400 closes) a minute from one address before it is refused with 429").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxFailedAuthsPerMinute))
    .addOption(new Option("--max-unseen-rooms <n>", "rooms never seen to exist one connection may wait on").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxUnseenRoomsPerConnection))
    .addOption(new Option("--max-rooms <n>", "rooms watched in all").argParser(parsePositiveInt).default(DEFAULT_GATEWAY_LIMITS.maxRooms))
    .addOption(new Option("--trusted-proxy <ip...>", "proxies whose X-Forwarded-For names the client, for the per-address limits"))
    .addOption(new Option("--ticket-secret <secret>", "admit browsers with a room ticket signed with this secret (room-watcher ticket, mintTicket) to its rooms only; at least 32 characters, never printed").env("ROOM_WATCHER_TICKET_SECRET"))
    .addOption(new Option("--ticket-secret-previous <secret>", "during a rotation, the ticket secret before --ticket-secret, still accepted").env("ROOM_WATCHER_TICKET_SECRET_PREVIOUS"))
    .addOption(new Option("--metrics-token <token>", "token GET /metrics requires (Authorization: Bearer); without it, /metrics is open").env("ROOM_WATCHER_METRICS_TOKEN"))
    .addOption(new Option("--dashboard", "serve a live dashboard at /dashboard (rooms by state, request rate, detection latency); its data needs --metrics-token"))
    .addOption(new Option("--max-requests-per-second <n>", "upstream requests started per second, all rooms together (default: the provider's, under its own limit)").argParser(parsePositiveInt))
    .addOption(new Option("--max-in-flight <n>", "upstream requests in flight at once").argParser(parsePositiveInt).default(DEFAULT_MAX_IN_FLIGHT))
    .addOption(new Option("--active-poll-interval <ms>", "delay between looks at an active room, to see a move or the end").argParser(parsePositiveMs).default(DEFAULT_POLL_OPTIONS.activePollIntervalMs))
    .addOption(new Option("--redis <url>", "shared mode: share rooms with every gateway on this Redis (redis://[:password@]host[:port][/db], rediss:// for TLS)").env("ROOM_WATCHER_REDIS_URL"))
    // No .default(): given without --redis, it is refused. Its default is shown as commander shows the others.
    .addOption(new Option("--lease-ttl <ms>", `shared mode: how long a room's owner holds it without renewing (default: ${DEFAULT_LEASE_TTL_MS})`).argParser(parsePositiveMs))
    .addOption(new Option("--instance-id <id>", "shared mode: this gateway's name in leases and logs (default: pid and random characters)"))
    .addOption(new Option("--log-level <level>", "JSON log level on stderr").choices(["debug", "info", "warn", "error", "silent"]).default("info"))
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText("after", HELP)
    .action(async (options: GatewayCliOptions, command: Command) =>
      setExit(await runGatewayGuarded({ ...options, sources: { baseUrl: command.getOptionValueSource("baseUrl"), token: command.getOptionValueSource("token") } }, io, command)),
    );
}

function runGatewayGuarded(options: GatewayCliOptions, io: CliIo, command: Command): Promise<number> {
  const secrets = [...upstreamSecrets(options, io.env), options.clientToken, options.hintToken, options.webhookSecret, options.metricsToken, options.upstreamToken, options.ticketSecret, options.ticketSecretPrevious, ...redisUrlSecrets(options.redis)];
  // A message about the base URL names the flag the user gave.
  const flagNames = options.upstream !== undefined && (options.baseUrl === undefined || options.sources?.baseUrl === "env") ? { ...GATEWAY_FLAG_NAMES, "base URL": "--upstream", baseUrl: "--upstream" } : GATEWAY_FLAG_NAMES;
  return guarded(io, { json: false, secrets, flagNames }, () => runGateway(options, io, command));
}

/** One value from a flag and its old name (which has no variable of its own): the old flag beats the variable; two flags must agree. */
function eitherFlag(value: string | undefined, source: string | undefined, old: string | undefined, flag: string, oldFlag: string): string | undefined {
  if (old === undefined) return value;
  if (value === undefined || source === "env") return old;
  if (value !== old) throw new ConfigError(`${oldFlag} is the old name of ${flag}: give one of them`);
  return value;
}

export async function runGateway(options: GatewayCliOptions, io: CliIo, command?: Command): Promise<number> {
  if (options.redis === undefined && (options.leaseTtl !== undefined || options.instanceId !== undefined)) {
    throw new ConfigError("--lease-ttl and --instance-id need --redis (or ROOM_WATCHER_REDIS_URL): without it the gateway shares nothing");
  }
  const baseUrl = eitherFlag(options.baseUrl, options.sources?.baseUrl, options.upstream, "--base-url", "--upstream");
  const token = eitherFlag(options.token, options.sources?.token, options.upstreamToken, "--token", "--upstream-token");
  // Named by flag here; the Gateway would refuse them too, by option name.
  if (options.clientToken !== undefined) validateToken("--client-token (ROOM_WATCHER_GATEWAY_TOKEN)", options.clientToken);
  if (options.hintToken !== undefined) validateToken("--hint-token (ROOM_WATCHER_HINT_TOKEN)", options.hintToken);
  if (options.metricsToken !== undefined) validateToken("--metrics-token (ROOM_WATCHER_METRICS_TOKEN)", options.metricsToken);
  if (options.ticketSecret !== undefined) validateTicketSecret("--ticket-secret (ROOM_WATCHER_TICKET_SECRET)", options.ticketSecret);
  if (options.ticketSecretPrevious !== undefined) {
    if (options.ticketSecret === undefined) throw new ConfigError("--ticket-secret-previous (ROOM_WATCHER_TICKET_SECRET_PREVIOUS) needs --ticket-secret: the previous secret is accepted beside a current one");
    validateTicketSecret("--ticket-secret-previous (ROOM_WATCHER_TICKET_SECRET_PREVIOUS)", options.ticketSecretPrevious);
  }
  if (options.dashboard === true && options.metricsToken === undefined) {
    throw new ConfigError("--dashboard needs --metrics-token (or ROOM_WATCHER_METRICS_TOKEN): the dashboard names rooms, so its data is never open");
  }
  const provider = providerOf(options, command);
  const baseUrlVariable = provider.env.baseUrl;
  if (baseUrl === undefined && baseUrlVariable !== undefined && io.env[baseUrlVariable] === undefined) {
    // A gateway serves many clients for a long time: it names its upstream instead of taking a default.
    throw new ConfigError(`the gateway needs --base-url (or ${baseUrlVariable}): the API to watch`);
  }
  const { source } = await upstreamOf({ ...options, baseUrl, token }, io, command);
  let webhooks: WebhookReceiver[] | undefined;
  if (options.webhookSecret !== undefined) {
    if (provider.webhooks === undefined) throw new ConfigError(`--webhook-secret: --provider ${provider.name} makes no webhook calls`);
    webhooks = [provider.webhooks(options.webhookSecret)];
  }
  const logger = createJsonLogger({ level: options.logLevel, destination: io.stderr as NodeJS.WritableStream });
  if (options.sources?.token === "cli" && options.clientToken === undefined) {
    // Before 0.2, --token was the clients' token: a gateway started as it was then would now be open.
    logger.warn({}, "--token is the rooms API's token (as for wait and watch); the clients' token is --client-token, and without it any client may connect");
  }
  const fleet = new Fleet({ maxRequestsPerSecond: options.maxRequestsPerSecond ?? provider.maxRequestsPerSecond, maxInFlight: options.maxInFlight });
  const gateway = await Gateway.start({
    fleet,
    source,
    port: options.port,
    host: options.host,
    clientToken: options.clientToken,
    hintToken: options.hintToken,
    webhooks,
    allowedOrigins: options.allowedOrigin,
    trustedProxies: options.trustedProxy,
    metricsToken: options.metricsToken,
    ticketSecret: options.ticketSecret,
    ticketSecretPrevious: options.ticketSecretPrevious,
    dashboard: options.dashboard === true,
    limits: {
      maxConnections: options.maxConnections,
      maxSubscriptionsPerConnection: options.maxSubscriptions,
      maxFrameBytes: options.maxFrameBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      heartbeatIntervalMs: options.heartbeatInterval,
      handshakeTimeoutMs: options.handshakeTimeout,
      maxPendingSockets: options.maxPendingSockets,
      maxPendingSocketsPerAddress: options.maxPendingPerAddress,
      maxFailedAuthsPerMinute: options.maxFailedAuths,
      maxUnseenRoomsPerConnection: options.maxUnseenRooms,
      maxRooms: options.maxRooms,
    },
    pollOptions: options.activePollInterval === undefined ? undefined : { activePollIntervalMs: options.activePollInterval },
    redis: options.redis === undefined ? undefined : { url: options.redis, leaseTtlMs: options.leaseTtl, instanceId: options.instanceId },
    logger,
  });
  line(io.stdout, gateway.url);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await gateway.close();
  await fleet.close();
  return ExitCode.OK;
}
