/** Rooms on the benchmarks' simulator: created at a steady rate, as a matchmaker would, and their looks counted. */
import { pause } from "./time.mjs";

/**
 * Creates `count` cold rooms in batches of `batch`, evenly over `spreadMs`, calling `created(batch,
 * first)` for each batch; with `lifetimeMs`, destroys each batch that long after its creation.
 * Resolves with every room id once the last batch is created.
 */
export async function createRooms(simulator, { appId, count, spreadMs, batch = 10, lifetimeMs }, created) {
  const roomIds = [];
  const start = performance.now();
  for (let first = 0; first < count; first += batch) {
    const ids = Array.from({ length: Math.min(batch, count - first) }, () => simulator.createRoom(appId, { scenario: "cold" }).roomId);
    roomIds.push(...ids);
    created(ids, first);
    if (lifetimeMs !== undefined) {
      setTimeout(() => {
        for (const roomId of ids) simulator.destroyRoom(appId, roomId);
      }, lifetimeMs);
    }
    const dueAt = start + ((first + batch) / count) * spreadMs;
    if (first + batch < count) await pause(Math.max(0, dueAt - performance.now()));
  }
  return roomIds;
}

/** The connection-info requests the simulator has served for these rooms. */
export const requestsOf = (simulator, roomIds) => roomIds.reduce((sum, roomId) => sum + simulator.requestCount(roomId, "connectionInfo"), 0);
