/**
 * A provider as the CLI sees it: the flags that name its upstream, and how they become a source, a
 * default request budget, and a running simulator. The library code lives below, by layer: the wire
 * schemas and sources in src/providers/<name>/, the fake host in src/simulator/; this file is what
 * bundles them for `--provider <name>`.
 */
import type { Option } from "commander";
import type { RoomSource } from "../../core/source.js";
import type { WebhookReceiver } from "../../core/webhook-receiver.js";
import type { CliIo } from "../io.js";

/** A command's parsed flags, by commander's key (`appId`, `namespace`, ...), read with `flagValue`. */
export type UpstreamFlags = object;

/** A string flag's value; undefined when not given. */
export function flagValue(flags: UpstreamFlags, key: string): string | undefined {
  const value: unknown = Reflect.get(flags, key);
  return typeof value === "string" ? value : undefined;
}

export interface CliProvider {
  readonly name: string;
  /** One line for --help. */
  readonly summary: string;
  /**
   * The flags this provider reads, by commander key. The shared ones (`baseUrl`, `token`) are defined
   * once for every provider (src/cli/providers/index.ts); the others come from `options()`.
   */
  readonly flagKeys: readonly string[];
  /** This provider's own flags, fresh for each command (commander binds an Option to one command). */
  options(): Option[];
  /** The environment variables each flag falls back to, in the order read: shown in messages and help. */
  readonly env: Readonly<Record<string, string>>;
  /** The source the flags describe. Rejects with a ConfigError, naming the flag, for what can never work. */
  source(flags: UpstreamFlags, io: CliIo): Promise<RoomSource>;
  /** Every secret the flags and the environment hold, for redaction. */
  secrets(flags: UpstreamFlags, env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string | undefined>;
  /** Whether its source pushes (one watch for every room): then `--gateway` needs none of its flags, and has no poll to fall back to. */
  readonly pushed?: boolean | undefined;
  /** Upstream requests per second one process should start by default: under the host's own limit. */
  readonly maxRequestsPerSecond: number;
  /** The gateway's receiver of the host's callbacks (`gateway --webhook-secret`), for a host that makes them. */
  webhooks?(secret: string): WebhookReceiver;
  /** Starts the provider's fake host for `simulate`. */
  simulate(options: SimulateOptions, io: CliIo): Promise<RunningSimulator>;
}

export interface SimulateOptions {
  readonly port: number;
  readonly host: string;
  readonly seed: number;
  readonly timeScale: number;
  /** The token admin calls must carry; undefined: any. */
  readonly token: string | undefined;
  /** Provider flags given to `simulate` (`appId` for Hathora, say). */
  readonly flags: UpstreamFlags;
}

/** A fake host, running. */
export interface RunningSimulator {
  /** The first line `simulate` prints: where clients point their base URL (or kubeconfig). */
  readonly url: string;
  /** What `simulate --json` prints besides `url`, `seed` and `timeScale`. */
  readonly details: Readonly<Record<string, unknown>>;
  /** The stderr line that says it is listening, without the Ctrl-C hint. */
  readonly banner: string;
  close(): Promise<void>;
}
