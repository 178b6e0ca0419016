/**
 * `--provider agones`: GameServers over the Kubernetes API, pushed by one list+watch per namespace.
 * Credentials come from a kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) or the in-cluster
 * service account, through @kubernetes/client-node: never printed, never logged.
 */
import { Option } from "commander";
import { ConfigError } from "../../core/errors.js";
import { kubeTransport } from "../../providers/agones/kube-transport.js";
import type { ActiveWhen } from "../../providers/agones/mapping.js";
import { AgonesSource, DEFAULT_NAMESPACE } from "../../providers/agones/source.js";
import { AgonesSimulator } from "../../simulator/agones/simulator.js";
import { DEFAULT_MAX_REQUESTS_PER_SECOND } from "../../watch/fleet.js";
import { type CliProvider, flagValue } from "./provider.js";

export const agones: CliProvider = {
  name: "agones",
  summary: "Agones GameServers over the Kubernetes API: --namespace, --kubeconfig, --context, --active-when, --port-name, --address-type",
  flagKeys: ["namespace", "kubeconfig", "context", "activeWhen", "portName", "addressType"],
  env: { kubeconfig: "KUBECONFIG" },
  options: () => [
    new Option("--namespace <ns>", "Agones: the GameServers' namespace (default: the kubeconfig context's, if it names one)"),
    new Option("--kubeconfig <path>", "Agones: kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account)"),
    new Option("--context <name>", "Agones: kubeconfig context (default: its current-context)"),
    new Option("--active-when <when>", "Agones: Ready, Allocated, label:KEY=VALUE or annotation:KEY=VALUE (default: Ready)"),
    new Option("--address-type <type>", "Agones: take the host from status.addresses of this type, e.g. ExternalDNS (default: status.address)"),
  ],
  async source(flags) {
    const activeWhen = parseActiveWhen(flagValue(flags, "activeWhen"));
    const transport = await kubeTransport({ kubeconfig: flagValue(flags, "kubeconfig"), context: flagValue(flags, "context") });
    return new AgonesSource({
      transport,
      namespace: flagValue(flags, "namespace") ?? transport.contextNamespace ?? DEFAULT_NAMESPACE,
      activeWhen,
      portName: flagValue(flags, "portName"),
      addressType: flagValue(flags, "addressType"),
    });
  },
  pushed: true,
  // The credentials are in the kubeconfig, read by the Kubernetes client: no flag holds one.
  secrets: () => [],
  // One list and one watch per namespace, whatever the number of rooms: the budget paces relists only.
  maxRequestsPerSecond: DEFAULT_MAX_REQUESTS_PER_SECOND,
  async simulate(options) {
    const simulator = await AgonesSimulator.start({
      port: options.port,
      hostname: options.host,
      seed: options.seed,
      timeScale: options.timeScale,
      token: options.token,
      namespace: flagValue(options.flags, "namespace"),
    });
    return {
      url: simulator.url,
      details: { port: simulator.port, kubeconfig: simulator.kubeconfigPath, namespace: simulator.namespace },
      banner: `Agones simulator listening (seed ${options.seed}, time scale ${options.timeScale}, namespace ${simulator.namespace}); kubeconfig ${simulator.kubeconfigPath}`,
      close: () => simulator.close(),
    };
  },
};

/** `--active-when`: Ready, Allocated, label:KEY=VALUE or annotation:KEY=VALUE. */
export function parseActiveWhen(text: string | undefined): ActiveWhen | undefined {
  if (text === undefined) return undefined;
  if (text === "Ready" || text === "Allocated") return text;
  const match = /^(label|annotation):([^=]+)=(.*)$/.exec(text);
  if (match === null) throw new ConfigError(`--active-when must be Ready, Allocated, label:KEY=VALUE or annotation:KEY=VALUE, got ${JSON.stringify(text)}`);
  const [, kind, key = "", value = ""] = match;
  return kind === "label" ? { label: key, value } : { annotation: key, value };
}
