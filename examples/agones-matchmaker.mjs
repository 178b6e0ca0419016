// A matchmaker on Agones: allocate a GameServer (a GameServerAllocation, through the kubeconfig), wait until
// the game says its match is loaded (the SDK label agones.dev/sdk-loaded), hand its address to the players,
// and keep watching it until it shuts down.
// Runs on the embedded fake Agones cluster: node examples/agones-matchmaker.mjs
// Against a real cluster: drop the simulator, and use your KUBECONFIG (or the pod's service account) and a
// Fleet whose game calls SDK.SetLabel("loaded", "true"). RBAC: get/list/watch gameservers, create gameserverallocations.
import { setTimeout as delay } from "node:timers/promises";
import { KubeConfig, CustomObjectsApi } from "@kubernetes/client-node";
import { Fleet, RoomWatcher, waitForActive } from "room-watcher";
import { AgonesSource, kubeTransport } from "room-watcher/agones";
import { AgonesSimulator } from "room-watcher/simulator";

// 50x: a GameServer boots in ~0.1 s, loads its match ~20 ms after allocation, plays for 0.1 s.
const simulator = await AgonesSimulator.start({ seed: 5, timeScale: 50, sessionMs: [5_000, 5_000] });
for (let i = 1; i <= 3; i++) simulator.createGameServer({ name: `arena-${i}`, scenario: "ready", labels: { game: "arena" } });
const kubeconfig = simulator.kubeconfigPath; // a real one: omit it, KUBECONFIG or ~/.kube/config is read
const namespace = simulator.namespace;

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const allocations = kc.makeApiClient(CustomObjectsApi);

/** POST a GameServerAllocation; 201 whatever happened: status.state says Allocated, UnAllocated or Contention. */
async function allocate() {
  for (let attempt = 1; ; attempt++) {
    const allocation = await allocations.createNamespacedCustomObject({
      group: "allocation.agones.dev",
      version: "v1",
      namespace,
      plural: "gameserverallocations",
      body: { apiVersion: "allocation.agones.dev/v1", kind: "GameServerAllocation", spec: { selectors: [{ matchLabels: { game: "arena" } }] } },
    });
    if (allocation.status.state === "Allocated") return allocation.status.gameServerName;
    if (attempt === 50) throw new Error(`no GameServer to allocate (${allocation.status.state})`);
    await delay(50); // none Ready yet (UnAllocated) or Contention: try again shortly
  }
}

// One source: one list and one watch of the namespace, however many GameServers we follow.
const transport = await kubeTransport({ kubeconfig });
const source = new AgonesSource({ transport, namespace, activeWhen: { label: "loaded", value: "true" } });
const fleet = new Fleet({ source });

const name = await allocate();
console.log(`allocated ${name}`);
const { exposedPort } = await waitForActive({ roomId: name, source, fleet, timeoutMs: 30_000 });
console.log(`match-1: players -> ${exposedPort.host}:${exposedPort.port} (${exposedPort.transportType}, ${name})`);
const truth = simulator.gameServer(name);
console.log(`check ${name}: ${exposedPort.host}:${exposedPort.port} / simulator: ${truth?.status.address}:${truth?.status.ports?.[0]?.port} ${truth?.metadata.labels["agones.dev/sdk-loaded"] === "true" ? "loaded" : "not loaded"}`);

// Keep watching: the match is over when the game shuts its server down.
const watcher = new RoomWatcher({ roomId: name, source, fleet, timeoutMs: 30_000 });
const ended = new Promise((resolve) => watcher.on("terminated", resolve));
watcher.start();
const end = await ended;
console.log(`${name} ended: ${end.reason} (Agones ${end.hostState})`);

await fleet.close();
await source.close();
await simulator.close();
