/**
 * The `room-watcher` command line, built on commander. `runCli` is the whole CLI minus the
 * process: tests call it with their own streams, environment and signal.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_FALLBACK_AFTER_MS } from "../watch/with-fallback.js";
import { DEFAULT_POLL_OPTIONS, DEFAULT_TIMEOUT_MS } from "../watch/options.js";
import { parseMs, parseNonNegativeInt, parsePort, parsePositiveMs, parsePositiveNumber } from "./args.js";
import { type DemoCliOptions, runDemo } from "./commands/demo.js";
import { DEMO_PROVIDERS } from "../demo/demo.js";
import { registerGatewayCommand } from "./commands/gateway.js";
import { registerTicketCommand } from "./commands/ticket.js";
import { runSimulate, type SimulateCliOptions } from "./commands/simulate.js";
import { runWait } from "./commands/wait.js";
import { runWatch } from "./commands/watch.js";
import { ExitCode, exitCodeHelp } from "./exit-codes.js";
import { DEMO_FLAG_NAMES, SIMULATE_FLAG_NAMES, WATCH_FLAG_NAMES } from "./flag-names.js";
import { errorJson } from "./format.js";
import { guarded } from "./guarded.js";
import { type CliIo, line } from "./io.js";
import { addUpstreamOptions, DEFAULT_PROVIDER, PROVIDERS } from "./providers/index.js";
import { type WatchCliOptions, watchSecrets } from "./watch-options.js";


/** The package's version, from the package.json beside dist/ (and src/, under test). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

function addWatchOptions(command: Command, io: CliIo): Command {
  return addUpstreamOptions(command)
    .addOption(new Option("--timeout <ms>", "deadline to become active, 0 for none").argParser(parseMs).default(DEFAULT_TIMEOUT_MS))
    .addOption(new Option("--poll-interval <ms>", "first delay between looks while starting").argParser(parsePositiveMs).default(DEFAULT_POLL_OPTIONS.pollIntervalMs))
    .addOption(
      new Option("--gateway <ws-url>", "watch through a room-watcher gateway (WebSocket push) instead of polling; the provider is polled directly while it is unreachable"),
    )
    .addOption(new Option("--gateway-token <token>", "token the gateway asks clients for (never printed)").env("ROOM_WATCHER_GATEWAY_TOKEN"))
    .addOption(new Option("--ticket <ticket>", "with --gateway: a room ticket (room-watcher ticket) instead of the token, admitting to its rooms only (never printed)").env("ROOM_WATCHER_TICKET"))
    .addOption(
      new Option("--gateway-fallback-after <ms>", "with --gateway: poll the provider directly once the gateway has been unreachable this long")
        .argParser(parseMs)
        .default(DEFAULT_FALLBACK_AFTER_MS),
    )
    .option("--json", "machine-readable output", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

const EXAMPLES = `
Examples:
  $ room-watcher simulate --port 4000 --seed 7            # a local Hathora-compatible API
  $ room-watcher wait 2swovpy1fnunu --app-id app-1 --base-url http://127.0.0.1:4000
  $ room-watcher wait 2swovpy1fnunu --app-id app-1 --json --timeout 60000
  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --json   # NDJSON, one event per line
  $ room-watcher demo                                      # the whole job on the embedded simulator

Environment: HATHORA_APP_ID, HATHORA_BASE_URL, HATHORA_TOKEN, ROOM_WATCHER_GATEWAY_TOKEN, ROOM_WATCHER_TICKET,
ROOM_WATCHER_TICKET_SECRET (tokens, tickets and secrets are never printed).`;

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command("room-watcher")
    .description("Watch game-server rooms until players can join them.")
    .version(packageVersion(), "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXAMPLES);

  addWatchOptions(
    program
      .command("wait")
      .description("block until the room is active, then print host:port (or JSON with --json)")
      .argument("<roomId>", "the room to wait for")
      .addHelpText(
        "after",
        [
          "",
          "Prints the room's host:port (its exposed port) and exits 0 once it is active.",
          "",
          "Examples:",
          "  $ room-watcher wait 2swovpy1fnunu --app-id app-1 --base-url http://127.0.0.1:4000",
          '  $ addr=$(room-watcher wait "$ROOM" --app-id "$APP" --timeout 60000) && ./client --connect "$addr"',
          "  $ room-watcher wait 2swovpy1fnunu --app-id app-1 --gateway ws://127.0.0.1:4100   # pushed by a gateway",
        ].join("\n"),
      ),
    io,
  ).action(async (roomId: string, options: WatchCliOptions, command: Command) =>
    setExit(await guarded(io, { json: options.json, secrets: watchSecrets(options, io), flagNames: WATCH_FLAG_NAMES }, () => runWait(roomId, options, io, command))),
  );

  addWatchOptions(
    program
      .command("watch")
      .description("print each event as it happens (NDJSON with --json) until the room ends or Ctrl-C")
      .argument("<roomId>", "the room to watch")
      .addOption(
        new Option("--active-poll-interval <ms>", "delay between looks once active, to see a move or the end")
          .argParser(parsePositiveMs)
          .default(DEFAULT_POLL_OPTIONS.activePollIntervalMs),
      )
      .addHelpText(
        "after",
        [
          "",
          "Exits when the room ends, or on Ctrl-C.",
          "",
          "Examples:",
          "  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --base-url http://127.0.0.1:4000",
          "  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --json | jq -c 'select(.event == \"active\")'",
          "  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --gateway ws://127.0.0.1:4100 --json",
        ].join("\n"),
      ),
    io,
  ).action(async (roomId: string, options: WatchCliOptions, command: Command) =>
    setExit(await guarded(io, { json: options.json, secrets: watchSecrets(options, io), flagNames: WATCH_FLAG_NAMES }, () => runWatch(roomId, options, io, command))),
  );

  program
    .command("simulate")
    .description("run a fake host (--provider, Hathora's rooms API unless given); the first line printed is its URL")
    .addOption(new Option("--provider <name>", "which host to fake").choices(Object.keys(PROVIDERS)).default(DEFAULT_PROVIDER))
    .addOption(new Option("--port <n>", "port to listen on (0: any free port)").argParser(parsePort).default(0))
    .addOption(new Option("--host <hostname>", "interface to listen on").default("127.0.0.1"))
    .addOption(new Option("--seed <n>", "seed of every random draw").argParser(parseNonNegativeInt).default(1))
    .addOption(new Option("--token <token>", "bearer token admin calls must carry (default: any)").env("SIMULATOR_TOKEN"))
    .addOption(new Option("--app-id <id>", "Hathora: the only app id served (default: any)"))
    .addOption(new Option("--time-scale <x>", "simulated ms per real ms").argParser(parsePositiveNumber).default(1))
    .option("--json", "print the first line as JSON: {provider, url, seed, timeScale, ...what the provider adds}", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      "after",
      [
        "",
        "Runs until Ctrl-C.",
        "",
        "Examples:",
        "  $ room-watcher simulate --port 4000 --seed 7 --time-scale 10",
        "  $ room-watcher simulate --json &   # first line: {\"url\":\"http://127.0.0.1:...\",\"port\":...}",
      ].join("\n"),
    )
    .action(async (options: SimulateCliOptions & { json: boolean }) =>
      setExit(await guarded(io, { json: options.json, secrets: [options.token], flagNames: SIMULATE_FLAG_NAMES }, () => runSimulate(options, io))),
    );

  program
    .command("demo")
    .description("the main job with no account: simulator, a mix of rooms, live progress, a summary")
    .addOption(new Option("--provider <name>", "which provider's fake host").choices(DEMO_PROVIDERS).default(DEFAULT_PROVIDER))
    .addOption(new Option("--seed <n>", "seed of the simulator").argParser(parseNonNegativeInt).default(7))
    .addOption(new Option("--time-scale <x>", "simulated ms per real ms").argParser(parsePositiveNumber).default(20))
    .option("--json", "print the summary as JSON", false)
    .option("--gateway", "watch through an in-process gateway (WebSocket push), the simulated game servers sending readiness hints; prints its dashboard's URL", false)
    .option("--keep-open", "with --gateway: once the demo is over, keep the gateway and its dashboard up until Ctrl-C", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText("after", "\nExamples:\n  $ room-watcher demo --seed 3\n  $ room-watcher demo --gateway\n  $ room-watcher demo --gateway --keep-open   # open the printed dashboard URL; Ctrl-C to stop")
    .action(async (options: DemoCliOptions & { json: boolean }) =>
      setExit(await guarded(io, { json: options.json, secrets: [], flagNames: DEMO_FLAG_NAMES }, () => runDemo(options, io))),
    );

  registerGatewayCommand(program, io, setExit);
  registerTicketCommand(program, io, setExit);

  // One table for every command, from ExitCode itself.
  for (const command of [program, ...program.commands]) command.addHelpText("after", `\n${exitCodeHelp()}`);

  return program;
}

/** The whole CLI: parses `argv` (without node and script), runs the command, returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    line(io.stderr, `room-watcher: ${errorJson(error).message}`);
    return ExitCode.ERROR;
  }
  return exitCode;
}
