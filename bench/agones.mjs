/**
 * The Agones benchmark (issue 14): watch N GameServers (default 10,000) in one namespace from one process,
 * through one AgonesSource over HTTPS (kubeTransport on the simulator's kubeconfig) against AgonesSimulator,
 * and report in the same run:
 *
 * 1. requests and connections over the watch window, against the naive way (a GET per GameServer every
 *    second): the naive count at N is computed from its definition (N x window seconds), and a smaller naive
 *    run (NAIVE GameServers for NAIVE_S seconds, real GETs over a keep-alive pool of 64 sockets) shows that
 *    the count holds and how many connections it takes;
 * 2. heap per room: (heap once every room is watched and has heard its GameServer) - (heap before), / N,
 *    after a full GC; this is the reflector's cache entry plus the RoomWatcher and its feed;
 * 3. delay from the fake server's change to the `active` event, p50 and p99: every GameServer is Ready,
 *    the source is active on the SDK label `agones.dev/sdk-loaded`, and the server sets that label on
 *    RATE GameServers a second (in batches every 10 ms); the change is stamped as the simulator commits it;
 * 4. relist cost after a 410: history compacted, the stream cut, the watch's resume answered 410; time from
 *    the relist request arriving to the next watch request arriving (transfer, parse, diff of N objects), and
 *    the list body's size.
 *
 * The simulator runs in this process (real time, with boots of ~0.15 s; changes are made directly), so the
 * delays include sharing its event loop: an upper bound for a separate API server.
 *
 * Run: npm run build && node --expose-gc bench/agones.mjs [gameServers=10000] [changesPerSecond=5000]
 */
import https from "node:https";
import { cpus, loadavg } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { Fleet, RoomWatcher } from "../dist/index.js";
import { AgonesSource, kubeTransport } from "../dist/agones.js";
import { AgonesSimulator } from "../dist/simulator/index.js";
import { ms, stats } from "./stats.mjs";

const N = Number(process.argv[2] ?? 10_000);
const RATE = Number(process.argv[3] ?? 5_000);
const NAIVE = 200;
const NAIVE_S = 3;
const BATCH_EVERY_MS = 10;
const started = performance.now();

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

/** Resolves when `done()` holds, re-checked by whoever calls the returned notify. */
function waiter() {
  const waits = new Set();
  return {
    notify: () => {
      for (const w of [...waits]) w();
    },
    until: (done) =>
      new Promise((resolve) => {
        const check = () => {
          if (!done()) return;
          waits.delete(check);
          resolve();
        };
        waits.add(check);
        check();
      }),
  };
}

const changes = waiter();
const requestTimes = [];
let readyCount = 0;
/** When the label was committed, by GameServer: performance.now(). */
const labelledAt = new Map();
const sim = await AgonesSimulator.start({
  seed: 14,
  // Real time, so watches last their real timeoutSeconds (300-600 s) as on a cluster; fast boots instead.
  timeScale: 1,
  scheduleMedianMs: 50,
  bootMedianMs: 100,
  // 1,000 host ports a node: room for every GameServer.
  nodes: Math.ceil(N / 1_000) + 2,
  historySize: 2 * N + 1_000,
  onTransition: (_ns, name, entry) => {
    if (entry.state === "Ready" && entry.sdkLabels["agones.dev/sdk-loaded"] === undefined) readyCount++;
    if (entry.sdkLabels["agones.dev/sdk-loaded"] === "true" && !labelledAt.has(name)) labelledAt.set(name, performance.now());
    changes.notify();
  },
  onRequest: (operation) => {
    requestTimes.push({ operation, at: performance.now() });
    changes.notify();
  },
});
const names = Array.from({ length: N }, (_, i) => `gs-${String(i).padStart(5, "0")}`);
for (const name of names) sim.createGameServer({ name, scenario: "ready" });
// Boots run on the simulator's timer; wait for every one to be Ready.
await changes.until(() => readyCount >= N);
const setupMs = performance.now() - started;

// ---- 1-3: one process watches every GameServer ----
const heapBefore = heap();
const requestsBefore = sim.requestCount();
const connectionsBefore = sim.connectionStats().connections;
const windowStart = performance.now();
const transport = await kubeTransport({ kubeconfig: sim.kubeconfigPath });
const source = new AgonesSource({ transport, namespace: sim.namespace, activeWhen: { label: "loaded", value: "true" } });
const fleet = new Fleet({ source });
const delays = [];
let heard = 0;
let active = 0;
const watchers = names.map((roomId) => {
  const watcher = new RoomWatcher({ roomId, source, fleet, timeoutMs: Infinity });
  watcher.once("starting", () => {
    heard++;
    changes.notify();
  });
  watcher.once("active", () => {
    const at = labelledAt.get(roomId);
    if (at !== undefined) delays.push(performance.now() - at);
    active++;
    changes.notify();
  });
  return watcher.start();
});
await changes.until(() => heard >= N);
const syncedMs = performance.now() - windowStart;
const heapWatching = heap();

// The server pushes label changes at RATE a second.
const perBatch = Math.max(1, Math.round((RATE * BATCH_EVERY_MS) / 1000));
const pushStart = performance.now();
await new Promise((resolve) => {
  let next = 0;
  const timer = setInterval(() => {
    for (const end = Math.min(N, next + perBatch); next < end; next++) sim.setSdkLabel(names[next], "loaded", "true");
    if (next >= N) {
      clearInterval(timer);
      resolve();
    }
  }, BATCH_EVERY_MS);
});
const pushedMs = performance.now() - pushStart;
await changes.until(() => active >= N);
const windowEnd = performance.now();
const windowS = (windowEnd - windowStart) / 1000;
const ourRequests = sim.requestCount() - requestsBefore;
const ourConnections = sim.connectionStats().connections - connectionsBefore;
const naiveRequestsAtN = Math.round(N * windowS);

// ---- 4: relist after a 410 ----
const listBytes = Buffer.byteLength(JSON.stringify(await transport.list(sim.namespace, new AbortController().signal)));
const relistFrom = requestTimes.length;
sim.compactHistory();
sim.dropWatches();
await changes.until(() => {
  const after = requestTimes.slice(relistFrom);
  const list = after.findIndex((r) => r.operation === "list");
  return list !== -1 && after.slice(list + 1).some((r) => r.operation === "watch");
});
const after = requestTimes.slice(relistFrom);
const listIndex = after.findIndex((r) => r.operation === "list");
const relistMs = after.slice(listIndex + 1).find((r) => r.operation === "watch").at - after[listIndex].at;
const dropToWatchMs = after.slice(listIndex + 1).find((r) => r.operation === "watch").at - after[0].at;

await Promise.all(watchers.map((w) => w.stop()));
await fleet.close();
await source.close();

// ---- the naive way, small: a GET per GameServer every second ----
const kc = new KubeConfig();
kc.loadFromFile(sim.kubeconfigPath);
const tls = {};
await kc.applyToHTTPSOptions(tls);
const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: tls.ca });
const get = (name) =>
  new Promise((resolve, reject) => {
    const req = https.get(`${sim.url}/apis/agones.dev/v1/namespaces/${sim.namespace}/gameservers/${name}`, { agent, headers: tls.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
  });
const naiveRequestsBefore = sim.requestCount("get");
const naiveConnectionsBefore = sim.connectionStats().connections;
const naiveStart = performance.now();
for (let second = 0; second < NAIVE_S; second++) {
  const tick = performance.now();
  const statuses = await Promise.all(names.slice(0, NAIVE).map(get));
  if (statuses.some((s) => s !== 200)) throw new Error(`naive GET failed: ${statuses.find((s) => s !== 200)}`);
  const wait = naiveStart + (second + 1) * 1000 - performance.now();
  if (second < NAIVE_S - 1 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  void tick;
}
const naiveMeasured = sim.requestCount("get") - naiveRequestsBefore;
const naiveConnections = sim.connectionStats().connections - naiveConnectionsBefore;
agent.destroy();
await sim.close();

const d = stats(delays);
const rows = [
  ["GameServers watched", N.toLocaleString("en-US"), ""],
  ["watch window (list -> last active)", `${windowS.toFixed(1)} s`, `synced in ${ms(syncedMs)} ms; ${N.toLocaleString("en-US")} label changes pushed in ${ms(pushedMs)} ms (${Math.round(N / (pushedMs / 1000)).toLocaleString("en-US")}/s)`],
  ["requests, room-watcher", String(ourRequests), "one list + one watch for the namespace"],
  ["requests, naive (GET each every 1 s), computed", naiveRequestsAtN.toLocaleString("en-US"), `N x ${windowS.toFixed(1)} s; ${(naiveRequestsAtN / ourRequests).toFixed(0)}x room-watcher's`],
  [`requests, naive, measured (${NAIVE} GameServers, ${NAIVE_S} s)`, String(naiveMeasured), `definition says ${NAIVE * NAIVE_S}`],
  ["requests per hour in the steady state", "~8 vs " + (N * 3600).toLocaleString("en-US"), "room-watcher: a watch renewed every 300-600 s (timeoutSeconds); naive: N x 3600"],
  ["TLS connections, room-watcher", String(ourConnections), ""],
  [`TLS connections, naive, measured (${NAIVE} GameServers, pool of 64)`, String(naiveConnections), "keep-alive; without it, one per request"],
  ["heap per room", `${((heapWatching - heapBefore) / N / 1024).toFixed(2)} KiB`, `${((heapWatching - heapBefore) / 1024 / 1024).toFixed(1)} MiB for ${N.toLocaleString("en-US")} (cache entry + watcher)`],
  ["change -> active, p50", `${d.p50} ms`, `n ${d.n}, min ${d.min} ms`],
  ["change -> active, p99", `${d.p99} ms`, `max ${d.max} ms`],
  ["relist after 410: list -> next watch", `${ms(relistMs)} ms`, `stream cut -> new watch ${ms(dropToWatchMs)} ms (with the backoff)`],
  ["relist after 410: list body", `${(listBytes / 1024 / 1024).toFixed(2)} MiB`, `${Math.round(listBytes / N)} bytes per GameServer`],
];
console.log(`\nnode --expose-gc bench/agones.mjs ${N} ${RATE}  (${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, load ${loadavg()[0].toFixed(2)} at the end, setup ${ms(setupMs)} ms, total ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
console.log("| measure | value | |\n|---|---|---|");
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
