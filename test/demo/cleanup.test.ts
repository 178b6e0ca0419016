/**
 * The demo scenario leaves nothing running when it fails partway (here its progress callback throws
 * on the first room): the error reaches the caller, and the simulator, the fleet and every watcher
 * are closed.
 */
import { getActiveResourcesInfo } from "node:process";
import { expect, it } from "vitest";
import { runDemoScenario } from "../../src/demo/demo.js";
import { resourcesLeftAfter } from "../helpers/resources.js";

it.each([false, true])("a demo that fails partway (gateway %s) rejects with the error and leaves nothing running", async (gateway) => {
  const before = getActiveResourcesInfo();
  let calls = 0;
  const failing = runDemoScenario({
    gateway,
    onProgress: () => {
      calls++;
      throw new Error("progress display broke");
    },
  });
  await expect(failing).rejects.toThrow("progress display broke");
  expect(calls).toBe(1);
  expect(await resourcesLeftAfter(before)).toEqual([]);
});
