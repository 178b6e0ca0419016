/**
 * The `room-watcher` command line, built on commander. `runCli` is the whole CLI minus the
 * process: tests call it with their own streams, environment and signal.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, RoomTerminatedError, WaitTimeoutError } from "../errors.js";
import { DEFAULT_BASE_URL } from "../sources/hathora-http.js";
import { DEFAULT_POLL_OPTIONS, DEFAULT_TIMEOUT_MS } from "../watch/options.js";
import { runDemo } from "./commands/demo.js";
import { registerGatewayCommand } from "./commands/gateway.js";
import { runSimulate } from "./commands/simulate.js";
import { runWait } from "./commands/wait.js";
import { runWatch } from "./commands/watch.js";
import { ExitCode } from "./exit-codes.js";
import { errorJson, evidenceJson, evidenceOf, redact } from "./format.js";
import { type CliIo, line } from "./io.js";
import { stylesFor } from "./style.js";
import type { WatchCliOptions } from "./watch-options.js";


/** The package's version, from the package.json beside dist/ (and src/, under test). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

export function parseMs(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a non-negative number of milliseconds");
  return n;
}

export function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

function addWatchOptions(command: Command, io: CliIo): Command {
  return command
    .addOption(new Option("--app-id <id>", "Hathora application id").env("HATHORA_APP_ID").makeOptionMandatory())
    .addOption(new Option("--base-url <url>", "rooms API origin").env("HATHORA_BASE_URL").default(DEFAULT_BASE_URL))
    .addOption(new Option("--token <token>", "bearer token (connection info needs none; never printed)").env("HATHORA_TOKEN"))
    .addOption(new Option("--api-version <version>", "connection-info endpoint").choices(["v1", "v2"]).default("v2"))
    .addOption(new Option("--timeout <ms>", "deadline to become active").argParser(parseMs).default(DEFAULT_TIMEOUT_MS))
    .addOption(new Option("--poll-interval <ms>", "first delay between looks while starting (default 500)").argParser(parseMs))
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

Exit codes: 0 active/ok, 1 error, 2 usage, 3 terminated (destroyed, suspended, not found),
            4 timeout, 130 interrupted.
Environment: HATHORA_APP_ID, HATHORA_BASE_URL, HATHORA_TOKEN (never printed).`;

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
          "Prints host:port of the room's default port and exits 0 once it is active.",
          "Exit codes: 3 terminated, 4 timeout, 1 error, 2 usage, 130 interrupted.",
          "",
          "Examples:",
          "  $ room-watcher wait 2swovpy1fnunu --app-id app-1 --base-url http://127.0.0.1:4000",
          '  $ addr=$(room-watcher wait "$ROOM" --app-id "$APP" --timeout 60000) && ./client --connect "$addr"',
        ].join("\n"),
      ),
    io,
  ).action(async (roomId: string, options: WatchCliOptions) => setExit(await guarded(io, options, () => runWait(roomId, options, io))));

  addWatchOptions(
    program
      .command("watch")
      .description("print each event as it happens (NDJSON with --json) until the room ends or Ctrl-C")
      .argument("<roomId>", "the room to watch")
      .addOption(new Option("--active-poll-interval <ms>", `delay between looks once active, to see a move or the end (default ${DEFAULT_POLL_OPTIONS.activePollIntervalMs})`).argParser(parseMs))
      .addHelpText(
        "after",
        [
          "",
          "Exits when the room ends: 3 terminated (destroyed, suspended, not found), 4 timeout, 1 error, 130 interrupted.",
          "",
          "Examples:",
          "  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --base-url http://127.0.0.1:4000",
          "  $ room-watcher watch 2swovpy1fnunu --app-id app-1 --json | jq -c 'select(.event == \"active\")'",
        ].join("\n"),
      ),
    io,
  ).action(async (roomId: string, options: WatchCliOptions) => setExit(await guarded(io, options, () => runWatch(roomId, options, io))));

  program
    .command("simulate")
    .description("run the Hathora-compatible simulator; the first line printed is its base URL")
    .addOption(new Option("--port <n>", "port to listen on (0: any free port)").argParser(parseIntArg).default(0))
    .addOption(new Option("--host <hostname>", "interface to listen on").default("127.0.0.1"))
    .addOption(new Option("--seed <n>", "seed of every random draw").argParser(parseIntArg).default(1))
    .addOption(new Option("--token <token>", "bearer token admin calls must carry (default: any)").env("SIMULATOR_TOKEN"))
    .addOption(new Option("--app-id <id>", "the only app id served (default: any)"))
    .addOption(new Option("--time-scale <x>", "simulated ms per real ms").argParser(parseMs).default(1))
    .option("--json", "print the first line as JSON: {url, port, seed, timeScale, appId}", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      "after",
      [
        "",
        "Runs until Ctrl-C (exit 0).",
        "",
        "Examples:",
        "  $ room-watcher simulate --port 4000 --seed 7 --time-scale 10",
        "  $ room-watcher simulate --json &   # first line: {\"url\":\"http://127.0.0.1:...\",\"port\":...}",
      ].join("\n"),
    )
    .action(async (options: { port: number; host: string; seed: number; token?: string; appId?: string; timeScale: number; json: boolean }) =>
      setExit(await guarded(io, { json: options.json, token: options.token }, () => runSimulate(options, io))),
    );

  program
    .command("demo")
    .description("the main job with no account: simulator, a mix of rooms, live progress, a summary")
    .addOption(new Option("--seed <n>", "seed of the simulator").argParser(parseIntArg).default(7))
    .addOption(new Option("--time-scale <x>", "simulated ms per real ms").argParser(parseMs).default(20))
    .option("--json", "print the summary as JSON", false)
    .option("--gateway", "watch through an in-process gateway (WebSocket push), the simulated game servers sending readiness hints", false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText("after", "\nExamples:\n  $ room-watcher demo --seed 3\n  $ room-watcher demo --gateway")
    .action(async (options: { seed: number; timeScale: number; json: boolean; gateway: boolean }) =>
      setExit(await guarded(io, { json: options.json }, () => runDemo(options, io))),
    );

  registerGatewayCommand(program, io, setExit);

  return program;
}

/** Runs a command, turning every error into a message and an exit code; the token never shows. */
async function guarded(io: CliIo, options: { json: boolean; token?: string | undefined }, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    const code = exitCodeOfError(error, io.signal);
    const summary = errorJson(error);
    const evidence = evidenceOf(error);
    if (options.json) {
      line(io.stdout, redact(JSON.stringify({ ok: false, exitCode: code, error: summary, ...(evidence === undefined ? {} : { evidence: evidenceJson(evidence) }) }), options.token));
    }
    line(io.stderr, `${stylesFor(io.stderr, io.env).red("room-watcher:")} ${redact(summary.message, options.token)}`);
    return code;
  }
}

export function exitCodeOfError(error: unknown, signal: AbortSignal): number {
  if (signal.aborted && error === signal.reason) return ExitCode.INTERRUPTED;
  if (error instanceof WaitTimeoutError) return ExitCode.TIMEOUT;
  if (error instanceof RoomTerminatedError) return error.reason === "failed" ? ExitCode.ERROR : ExitCode.TERMINATED;
  if (error instanceof ConfigError) return ExitCode.USAGE;
  return ExitCode.ERROR;
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
