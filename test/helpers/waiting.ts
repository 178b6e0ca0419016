/**
 * Waiting for a condition without sleeping: a test resolves when what it waits for has happened,
 * re-checked on each event that could make it so.
 */
import type { RoomWatcher } from "../../src/watch/room-watcher.js";

/** Resolves once `watcher` is in a state that `done` accepts (now or later). */
export function untilWatcher(watcher: RoomWatcher, done: (w: RoomWatcher) => boolean): Promise<void> {
  if (done(watcher)) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done(watcher)) return;
      watcher.off("status", check);
      watcher.off("active", check);
      resolve();
    };
    watcher.on("status", check);
    watcher.on("active", check);
  });
}

/**
 * Conditions re-checked whenever the test says something happened: `notify()` from the event
 * handlers, `until(done)` to wait for `done()` to hold.
 */
export function conditions(): { notify: () => void; until: (done: () => boolean) => Promise<void> } {
  const waiters = new Set<() => void>();
  return {
    notify: () => {
      for (const waiter of [...waiters]) waiter();
    },
    until: (done) => {
      if (done()) return Promise.resolve();
      return new Promise((resolve) => {
        const check = (): void => {
          if (!done()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}

/** What `promise` rejects with; throws if it resolves instead. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
