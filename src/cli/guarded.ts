/** How every command ends when it throws: a message on stderr (and JSON with --json), an exit code. */
import { redactSecrets } from "../core/redact.js";
import { exitCodeOfError } from "./exit-codes.js";
import { type FlagNames, withFlagNames } from "./flag-names.js";
import { errorJson, evidenceJson, evidenceOf } from "./format.js";
import { type CliIo, line } from "./io.js";
import { stylesFor } from "./style.js";

export interface GuardOptions {
  /** Also print `{ok: false, exitCode, error, evidence?}` on stdout. */
  json: boolean;
  /** Never shown, whatever the error says. */
  secrets: ReadonlyArray<string | undefined>;
  /** The command's flags, for telling a ConfigError in the user's terms. */
  flagNames: FlagNames;
}

/** Runs a command, turning every error into a message and an exit code. */
export async function guarded(io: CliIo, options: GuardOptions, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    const code = exitCodeOfError(error, io.signal);
    const summary = errorJson(withFlagNames(error, options.flagNames));
    // What a failed watch saw of its upstream: where it looked, the looks, the last error.
    const evidence = evidenceOf(error);
    if (options.json) {
      const output = { ok: false, exitCode: code, error: summary, ...(evidence === undefined ? {} : { evidence: evidenceJson(evidence) }) };
      line(io.stdout, redactSecrets(JSON.stringify(output), options.secrets));
    }
    line(io.stderr, `${stylesFor(io.stderr, io.env).red("room-watcher:")} ${redactSecrets(summary.message, options.secrets)}`);
    return code;
  }
}
