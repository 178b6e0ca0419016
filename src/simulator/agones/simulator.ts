/**
 * A fake Agones cluster on loopback: the Kubernetes API for GameServers and GameServerAllocations over
 * HTTPS with a CA made for this run, a kubeconfig to reach it, seeded lifecycles, ground truth and
 * fault injection. Good enough that @kubernetes/client-node's own list and watch work against it.
 */
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../core/errors.js";
import { FaultInjector } from "../faults.js";
import { createSimulatedTime, performanceClock, type NowClock, type SimulatedTime } from "../simulated-time.js";
import { parseAllocationRequest } from "./allocation.js";
import { generateTlsMaterial, kubeconfigYaml, newToken, writeKubeconfig } from "./credentials.js";
import { validateAgonesFaults, WatchFaults, type AgonesFaultOptions } from "./faults.js";
import { NAMESPACE_NAME, parseGameServerRequest, type GameServer, type GameServerPort } from "./game-server.js";
import { createAgonesApiServer, DEFAULT_BOOKMARK_INTERVAL_MS, type ApiServer, type Operation, type Verb } from "./router.js";
import { AgonesWorld, type AgonesScenario, type AgonesWorldOptions, type GameServerTruth } from "./world.js";

export interface AgonesSimulatorOptions extends AgonesWorldOptions {
  /** Port to listen on. Default 0 (any free port). */
  port?: number | undefined;
  /** Interface to listen on (and the name the certificate is for). Default "127.0.0.1". */
  hostname?: string | undefined;
  /** Simulated ms per real ms; 100 makes a 3 s boot take 30 ms. Watch timeouts and bookmarks run on it too. Default 1. */
  timeScale?: number | undefined;
  /** Bearer token of the kubeconfig's user. Default: a fresh random token. */
  token?: string | undefined;
  /** Namespace of the kubeconfig's context. Default "default". */
  namespace?: string | undefined;
  /** Where to write the kubeconfig. Default: a new temporary folder, removed by close(). */
  kubeconfigPath?: string | undefined;
  /** Verbs the token is granted (RBAC); others answer 403. Default: all. */
  permissions?: readonly Verb[] | undefined;
  /** Simulated ms between bookmarks on watches that ask for them. Default 60000. */
  bookmarkIntervalMs?: number | undefined;
  /** Faults from the start. Default none. */
  faults?: AgonesFaultOptions | undefined;
  /** Source of real time in ms. Default performance.now(). */
  clock?: NowClock | undefined;
  /** Called as each API request is counted, before it is answered (for tests and benchmarks). Default none. */
  onRequest?: ((operation: Operation) => void) | undefined;
}

export interface CreateGameServerOptions {
  /** Default: `generateName` plus five seeded characters. */
  name?: string | undefined;
  /** Default "gameserver-". */
  generateName?: string | undefined;
  /** Default: drawn (mostly "ready"). */
  scenario?: AgonesScenario | undefined;
  labels?: Readonly<Record<string, string>> | undefined;
  /** Default: one Dynamic UDP port named "default". */
  ports?: readonly Partial<GameServerPort>[] | undefined;
}

const USER = "system:serviceaccount:default:room-watcher";

export class AgonesSimulator {
  /** Base URL, e.g. "https://127.0.0.1:41234" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The kubeconfig that reaches this server (CA, token, context with the namespace). */
  readonly kubeconfigPath: string;
  /** The kubeconfig's namespace. */
  readonly namespace: string;
  /** The CA certificate (PEM) that signed the server's certificate. */
  readonly caPem: string;
  readonly #world: AgonesWorld;
  readonly #time: SimulatedTime;
  readonly #api: ApiServer;
  readonly #listFaults: FaultInjector;
  readonly #watchFaults: WatchFaults;
  readonly #removeKubeconfig: () => Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(init: {
    url: string;
    port: number;
    kubeconfigPath: string;
    namespace: string;
    caPem: string;
    world: AgonesWorld;
    time: SimulatedTime;
    api: ApiServer;
    listFaults: FaultInjector;
    watchFaults: WatchFaults;
    removeKubeconfig: () => Promise<void>;
  }) {
    this.url = init.url;
    this.port = init.port;
    this.kubeconfigPath = init.kubeconfigPath;
    this.namespace = init.namespace;
    this.caPem = init.caPem;
    this.#world = init.world;
    this.#time = init.time;
    this.#api = init.api;
    this.#listFaults = init.listFaults;
    this.#watchFaults = init.watchFaults;
    this.#removeKubeconfig = init.removeKubeconfig;
  }

  /** Starts a server on 127.0.0.1 (a free port by default) and writes its kubeconfig. */
  static async start(options: AgonesSimulatorOptions = {}): Promise<AgonesSimulator> {
    const seed = options.seed ?? 1;
    const namespace = options.namespace ?? "default";
    if (!NAMESPACE_NAME.test(namespace)) throw new ConfigError(`namespace must be a DNS-1123 label: ${namespace}`);
    const token = options.token ?? newToken();
    if (token.length === 0 || /\s/.test(token)) throw new ConfigError("token must be non-empty and without whitespace");
    const bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    if (!(Number.isFinite(bookmarkIntervalMs) && bookmarkIntervalMs > 0)) throw new ConfigError("bookmarkIntervalMs must be a positive number");
    const faults = options.faults ?? {};
    validateAgonesFaults(faults);
    const time = createSimulatedTime(options.clock ?? performanceClock, options.timeScale ?? 1);
    const world = new AgonesWorld({ ...options, seed, epochMs: options.epochMs ?? Date.now() });
    const listFaults = new FaultInjector(seed, faults.list ?? {});
    const watchFaults = new WatchFaults(seed);
    watchFaults.set(faults);
    const hostname = options.hostname ?? "127.0.0.1";
    const tls = await generateTlsMaterial([...new Set([hostname, "127.0.0.1", "localhost", "::1"])]);
    const api = createAgonesApiServer(world, { time, tls, listFaults, watchFaults, seed, token, user: USER, bookmarkIntervalMs, onRequest: options.onRequest });
    api.setPermissions(options.permissions);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      api.server.once("error", onError);
      api.server.listen(options.port ?? 0, hostname, () => {
        api.server.off("error", onError);
        resolve();
      });
    });
    const { port } = api.server.address() as AddressInfo;
    const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
    const url = `https://${urlHost}:${port}`;
    let written: { path: string; remove: () => Promise<void> };
    try {
      written = await writeKubeconfig(
        kubeconfigYaml({ server: url, caPem: tls.caPem, token, namespace, name: "room-watcher-simulator" }),
        options.kubeconfigPath,
      );
    } catch (error) {
      await api.close();
      throw new ConfigError(`cannot write the kubeconfig: ${(error as Error).message}`, { cause: error });
    }
    return new AgonesSimulator({ url, port, kubeconfigPath: written.path, namespace, caPem: tls.caPem, world, time, api, listFaults, watchFaults, removeKubeconfig: written.remove });
  }

  /** Creates a GameServer without HTTP; throws ConfigError for an invalid spec or a taken name. */
  createGameServer(options: CreateGameServerOptions = {}, namespace = this.namespace): GameServer {
    const parsed = parseGameServerRequest({
      metadata: { name: options.name, generateName: options.name === undefined ? (options.generateName ?? "gameserver-") : undefined, labels: options.labels },
      spec: options.ports === undefined ? {} : { ports: options.ports },
    });
    if (!parsed.ok) throw new ConfigError(`invalid GameServer: ${parsed.causes.map((c) => `${c.field ?? ""} ${c.message}`).join("; ")}`);
    const result = this.#world.createGameServer(this.#time.now(), namespace, parsed.request, options.scenario);
    if (result.kind === "exists") throw new ConfigError(`GameServer ${namespace}/${result.name} already exists`);
    return this.#changed(result.gameServer);
  }

  /** Deletes as `DELETE` does (deletionTimestamp now, gone shortly after). False when absent. */
  deleteGameServer(name: string, namespace = this.namespace): boolean {
    return this.#changed(this.#world.deleteGameServer(this.#time.now(), namespace, name) !== undefined);
  }

  /**
   * Allocates as a GameServerAllocation does (the first Ready server whose labels match, by name), without
   * HTTP: the allocated GameServer, or undefined when none is Ready (UnAllocated).
   */
  allocate(matchLabels: Readonly<Record<string, string>> = {}, namespace = this.namespace): GameServer | undefined {
    const parsed = parseAllocationRequest({ spec: { selectors: [{ matchLabels }] } });
    if (!parsed.ok) throw new ConfigError(`invalid allocation: ${parsed.causes.map((c) => `${c.field ?? ""} ${c.message}`).join("; ")}`);
    const result = this.#changed(this.#world.allocate(this.#time.now(), namespace, parsed.request));
    return result.state === "Allocated" ? result.gameServer : undefined;
  }

  /** The game calls SDK.Shutdown(). False when absent or already ending. */
  shutdown(name: string, namespace = this.namespace): boolean {
    return this.#changed(this.#world.shutdown(this.#time.now(), namespace, name));
  }

  /** The server fails its health checks. False when absent or already ending. */
  markUnhealthy(name: string, namespace = this.namespace): boolean {
    return this.#changed(this.#world.markUnhealthy(this.#time.now(), namespace, name));
  }

  /** The game calls SDK.SetLabel(key, value), setting `agones.dev/sdk-<key>`. False when absent. */
  setSdkLabel(name: string, key: string, value: string, namespace = this.namespace): boolean {
    return this.#changed(this.#world.setSdkLabel(this.#time.now(), namespace, name, key, value));
  }

  /** The game calls SDK.SetAnnotation(key, value), setting `agones.dev/sdk-<key>`. False when absent. */
  setSdkAnnotation(name: string, key: string, value: string, namespace = this.namespace): boolean {
    return this.#changed(this.#world.setSdkAnnotation(this.#time.now(), namespace, name, key, value));
  }

  /** The stored object now, as a GET would answer (without faults). */
  gameServer(name: string, namespace = this.namespace): GameServer | undefined {
    this.tick();
    return this.#world.store.get(namespace, name);
  }

  /** Ground truth of a GameServer, deleted ones included. */
  truth(name: string, namespace = this.namespace): GameServerTruth | undefined {
    return this.#world.truth(this.#time.now(), namespace, name);
  }

  /** Every GameServer ever created, in creation order. */
  gameServers(): { namespace: string; name: string }[] {
    return this.#world.gameServers();
  }

  /** The latest resourceVersion. */
  resourceVersion(): string {
    this.tick();
    return String(this.#world.store.rv);
  }

  /** Runs every lifecycle step due by now (a timer does this on its own; tests with an injected clock call it). */
  tick(): void {
    this.#world.advance(this.#time.now());
    this.#api.changed();
  }

  /** Replaces every fault setting. */
  setFaults(faults: AgonesFaultOptions): void {
    validateAgonesFaults(faults);
    this.#listFaults.setFaults(faults.list ?? {});
    this.#watchFaults.set(faults);
  }

  /** Injected list/get faults by kind: "rateLimit", "http500", "latency", "drop", "malformed". */
  faultCounts(): Record<string, number> {
    return this.#listFaults.counts();
  }

  /** Verbs the kubeconfig's token is granted; undefined grants all. Others answer 403. */
  setPermissions(verbs: readonly Verb[] | undefined): void {
    this.#api.setPermissions(verbs);
  }

  /** Forgets the event history (etcd compaction): a watch from any earlier version gets 410. */
  compactHistory(): void {
    this.#world.store.compact();
  }

  /** Cuts every open watch stream now. Returns how many. */
  dropWatches(): number {
    return this.#api.dropWatches();
  }

  /** Every open watch goes silent: no events, no bookmarks, no end. Returns how many. */
  silenceWatches(): number {
    return this.#api.silenceWatches();
  }

  /** Sends a bookmark now on every open watch that asked for them. Returns how many. */
  sendBookmarks(): number {
    return this.#api.sendBookmarks();
  }

  /** Requests served, of one operation or all. */
  requestCount(operation?: Operation): number {
    return this.#api.requestCount(operation);
  }

  /** TLS connections accepted and watch streams open now. */
  connectionStats(): { connections: number; openWatches: number } {
    return { connections: this.#api.connectionCount, openWatches: this.#api.openWatchCount };
  }

  /** Simulated ms since start. */
  now(): number {
    return this.#time.now();
  }

  /** The real instant (the clock's ms, performance.now() by default) of a simulated one. */
  realTimeOf(simulatedMs: number): number {
    return this.#time.realTimeOf(simulatedMs);
  }

  /** Closes the server, every stream and timer, and removes a temporary kubeconfig. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#api.close();
      await this.#removeKubeconfig();
    })();
    return this.#closing;
  }

  #changed<T>(result: T): T {
    this.#api.changed();
    return result;
  }
}
