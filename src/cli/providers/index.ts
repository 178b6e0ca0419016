/**
 * `--provider`: every provider the CLI knows, the flags that name an upstream, and the one way
 * commands turn those flags into a source. Hathora is the default.
 */
import { type Command, Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import type { RoomSource } from "../../core/source.js";
import type { CliIo } from "../io.js";
import { agones } from "./agones.js";
import { edgegap } from "./edgegap.js";
import { hathora } from "./hathora.js";
import { type CliProvider, flagValue, type UpstreamFlags } from "./provider.js";

export type { CliProvider, RunningSimulator, SimulateOptions, UpstreamFlags } from "./provider.js";

export const PROVIDERS: Readonly<Record<string, CliProvider>> = { hathora, agones, edgegap };
export const DEFAULT_PROVIDER = "hathora";

function envList(key: string): string {
  return Object.values(PROVIDERS)
    .filter((p) => p.env[key] !== undefined)
    .map((p) => p.env[key])
    .join(", ");
}

/** `--provider` and the union of every provider's flags (the shared ones, `--base-url`, `--token` and `--port-name`, once). Defaults and variables are each provider's, applied in `upstreamOf`. */
export function addUpstreamOptions(command: Command): Command {
  command.addOption(new Option("--provider <name>", "where rooms live").choices(Object.keys(PROVIDERS)).default(DEFAULT_PROVIDER));
  command.addOption(new Option("--base-url <url>", `the provider's API origin (default: the provider's; env ${envList("baseUrl")})`));
  command.addOption(new Option("--token <token>", `the provider's API token, never printed (env ${envList("token")})`));
  command.addOption(new Option("--port-name <name>", "the port players connect to, by name (Agones: the first unless given; Edgegap: required)"));
  const seen = new Set(command.options.map((o) => o.long));
  for (const provider of Object.values(PROVIDERS)) {
    for (const option of provider.options()) {
      if (seen.has(option.long)) continue;
      seen.add(option.long);
      command.addOption(option);
    }
  }
  return command;
}

/** What `--provider` and its flags describe. */
export interface Upstream {
  readonly provider: CliProvider;
  readonly source: RoomSource;
  readonly secrets: ReadonlyArray<string | undefined>;
}

/** The provider `--provider` names; a flag of another provider given with it can never work, and says so. */
export function providerOf(flags: UpstreamFlags, command: Command | undefined): CliProvider {
  const name = flagValue(flags, "provider") ?? DEFAULT_PROVIDER;
  const provider = PROVIDERS[name];
  if (provider === undefined) throw new ConfigError(`unknown --provider ${JSON.stringify(name)}: expected one of ${Object.keys(PROVIDERS).join(", ")}`);
  if (command !== undefined) {
    const own = new Set(provider.flagKeys);
    for (const option of command.options) {
      const key = option.attributeName();
      if (own.has(key) || command.getOptionValueSource(key) !== "cli") continue;
      const owners = Object.values(PROVIDERS).filter((p) => p.flagKeys.includes(key));
      if (owners.length > 0) {
        throw new ConfigError(`${option.long} is not a flag of --provider ${provider.name} (it is one of ${owners.map((p) => `--provider ${p.name}`).join(" and ")})`);
      }
    }
  }
  return provider;
}

/** Every secret any provider's flags or variables could hold: redacted whichever provider runs. */
export function upstreamSecrets(flags: UpstreamFlags, env: Readonly<Record<string, string | undefined>>): Array<string | undefined> {
  return Object.values(PROVIDERS).flatMap((provider) => provider.secrets(flags, env));
}

/** The source the flags describe, with every secret they hold. */
export async function upstreamOf(flags: UpstreamFlags, io: CliIo, command?: Command): Promise<Upstream> {
  const provider = providerOf(flags, command);
  return { provider, source: await provider.source(flags, io), secrets: provider.secrets(flags, io.env) };
}
