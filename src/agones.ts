/**
 * `room-watcher/agones`: Agones GameServers over the Kubernetes API. A separate entry so that whoever does
 * not use Agones never loads `@kubernetes/client-node` (and even here it is loaded on the first
 * `kubeTransport()` call).
 */
export { AgonesSource, type AgonesSourceOptions } from "./providers/agones/source.js";
export { kubeTransport, type KubeTransport, type KubeTransportOptions } from "./providers/agones/kube-transport.js";
export type { AgonesTransport } from "./providers/agones/transport.js";
export type { ActiveWhen } from "./providers/agones/mapping.js";
export { AccessDeniedError } from "./core/errors.js";
