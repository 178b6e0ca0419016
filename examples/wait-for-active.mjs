// Wait for a room to become joinable, on the embedded simulator (no account needed).
// Run: npm install && node examples/wait-for-active.mjs
// Against Hathora (or a compatible host), drop the simulator and pass your appId and baseUrl.
import { RoomWatcher, waitForActive } from "room-watcher";
import { Simulator } from "room-watcher/simulator";

const simulator = await Simulator.start({ seed: 42, timeScale: 10 }); // cold starts take ~0.5 s
const appId = "app-example";

try {
  // 1. Server code: block until players can join, with a deadline and cancellation.
  const { roomId } = simulator.createRoom(appId, { scenario: "cold" });
  const controller = new AbortController();
  const { exposedPort } = await waitForActive({
    roomId,
    appId,
    baseUrl: simulator.url,
    timeoutMs: 30_000,
    signal: controller.signal,
  });
  console.log(`room ${roomId} is joinable at ${exposedPort.host}:${exposedPort.port} (${exposedPort.transportType})`);

  // 2. Long-lived watching: every change as an event, including a move to a new process.
  const other = simulator.createRoom(appId, { scenario: "cold" }).roomId;
  const watcher = new RoomWatcher({ roomId: other, appId, baseUrl: simulator.url, activePollIntervalMs: 200 });
  await new Promise((resolve) => {
    watcher.on("starting", (e) => console.log(`room ${other}: starting${e.rescheduled ? " again (rescheduled)" : ""}`));
    watcher.on("active", (e) => {
      console.log(`room ${other}: active at ${e.exposedPort.host}:${e.exposedPort.port}${e.moved ? " (moved)" : ""}`);
      if (e.moved) resolve(undefined);
      else simulator.crashProcess(simulator.processOf(other)); // make it move
    });
    watcher.on("error", (e) => console.log(`room ${other}: ${e.error.code} (attempt ${e.attempt}, next look in ${e.nextDelayMs} ms)`));
    watcher.start();
  });
  await watcher.stop();
} finally {
  await simulator.close();
}
