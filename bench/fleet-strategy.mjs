/**
 * One waiting strategy in a child process of its own, so its CPU time is its own. The parent sends
 * rooms as it creates them ({ roomId, processId }); this process reports each detection
 * ({ roomId, detectedAt } in epoch ms) and, when told "done", its CPU time.
 *
 *   fixed        Hathora's plugins: look every 1 s until active.
 *   sdk          the official SDK's backoff (Speakeasy defaults: 500 ms, x1.5, capped at 60 s) as the wait between looks.
 *   room-watcher waitForActive through one Fleet (learned schedule, sibling checks);
 *                "room-watcher:N" sets delayPerLookMs to N (the requests/latency trade-off).
 */
import { Fleet, waitForActive } from "../dist/index.js";

const [strategy, baseUrl, appId] = process.argv.slice(2);
const cpuAtStart = process.cpuUsage();

function report(roomId) {
  process.send?.({ type: "detected", roomId, detectedAt: Date.now() });
}

/** The naive loops: look, and if not active, wait `delayMs(look)` and look again. */
function naiveLoop(delayMs) {
  return ({ roomId }) => {
    let looks = 0;
    const look = async () => {
      looks++;
      try {
        const response = await fetch(`${baseUrl}/rooms/v2/${appId}/connectioninfo/${roomId}`);
        const body = await response.json();
        if (response.ok && body.status === "active") {
          report(roomId);
          return;
        }
      } catch {
        // The naive loops retry everything on their fixed schedule.
      }
      setTimeout(look, delayMs(looks));
    };
    void look();
  };
}

// "room-watcher" runs the defaults; "room-watcher:150" sets delayPerLookMs to 150.
const [kind, delayPerLook] = strategy.split(":");
const fleet =
  kind === "room-watcher"
    ? new Fleet({ appId, baseUrl, maxRequestsPerSecond: 1000, timeoutMs: 120_000, ...(delayPerLook === undefined ? {} : { delayPerLookMs: Number(delayPerLook) }) })
    : undefined;

const watch = {
  fixed: naiveLoop(() => 1000),
  sdk: naiveLoop((looks) => Math.min(60_000, 500 * 1.5 ** (looks - 1))),
  "room-watcher": ({ roomId, processId }) => {
    waitForActive({ roomId, fleet, processId }).then(
      () => report(roomId),
      (error) => process.send?.({ type: "failed", roomId, message: String(error?.message ?? error) }),
    );
  },
}[kind];
if (watch === undefined) throw new Error(`unknown strategy ${strategy}`);

process.on("message", async (message) => {
  if (message.type === "room") watch(message);
  if (message.type === "done") {
    const cpu = process.cpuUsage(cpuAtStart);
    const samples = fleet?.stats.samples;
    await fleet?.close();
    process.send?.({ type: "cpu", cpuMs: (cpu.user + cpu.system) / 1000, samples }, () => process.exit(0));
  }
});
process.send?.({ type: "ready" });
