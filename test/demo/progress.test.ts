/**
 * The demo never goes quiet without saying why: while no room changes (the never-ready room waits out
 * its bind deadline), onProgress hears a `waiting` progress naming what it waits for, and the CLI shows
 * it. One never-ready room at time scale 100 waits a 1 s deadline; waiting progress every 50 ms.
 */
import { getActiveResourcesInfo } from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/program.js";
import { type DemoProgress, runDemoScenario } from "../../src/demo/demo.js";
import { killAllCli, spawnCli } from "../helpers/cli-process.js";
import { resourcesLeftAfter } from "../helpers/resources.js";

const ONLY_NEVER_READY = { warm: 0, cold: 0, "never-ready": 1, "destroyed-mid-start": 0, rescheduled: 0 };

afterEach(killAllCli);

describe("demo progress while nothing happens", () => {
  it("says which room it waits for, in what state, and when its deadline comes, until the room ends", async () => {
    const before = getActiveResourcesInfo();
    const heard: DemoProgress[] = [];
    const result = await runDemoScenario({ seed: 5, timeScale: 100, counts: ONLY_NEVER_READY, progressIntervalMs: 50, onProgress: (p) => heard.push(p) });
    expect(result.rooms.map((r) => [r.kind, r.matches])).toEqual([["never-ready", true]]);
    const roomId = result.rooms[0]?.roomId ?? "";

    const events = heard.map((p) => p.event);
    const firstWaiting = events.indexOf("waiting");
    const ended = events.indexOf("terminated");
    // Created and seen starting, then (the room silent for ~1 s) waiting progress, then the end; none after.
    expect(events.slice(0, firstWaiting)).toEqual(["created", "starting"]);
    expect(ended).toBe(events.length - 1);
    const waiting = heard.slice(firstWaiting, ended);
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    for (const p of waiting) {
      expect(p).toMatchObject({ event: "waiting", roomId, kind: "never-ready", pending: [{ roomId, kind: "never-ready", status: "starting" }] });
      expect(p.detail).toMatch(new RegExp(`^1 room: ${roomId} \\(never-ready\\) still starting, ends at its 100 s bind deadline in ~\\d+\\.\\d s$`));
    }
    // Its clock moves: each waiting progress is later than the one before, and the countdown never rises.
    const elapsed = waiting.map((p) => p.elapsedMs);
    expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
    expect(new Set(elapsed).size).toBe(elapsed.length);
    const countdown = waiting.map((p) => Number(/in ~(\d+\.\d) s$/.exec(p.detail)?.[1]));
    expect(countdown).toEqual([...countdown].sort((a, b) => b - a));
    expect(heard.at(-1)).toMatchObject({ event: "terminated", pending: [] });
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("a progress display that throws on a waiting tick ends the demo with its error, leaving nothing running", async () => {
    const before = getActiveResourcesInfo();
    const failing = runDemoScenario({
      timeScale: 100,
      counts: ONLY_NEVER_READY,
      progressIntervalMs: 20,
      onProgress: (p) => {
        if (p.event === "waiting") throw new Error("progress display broke while waiting");
      },
    });
    await expect(failing).rejects.toThrow("progress display broke while waiting");
    expect(await resourcesLeftAfter(before)).toEqual([]);
  });

  it("room-watcher demo (piped) says once what it waits for before the never-ready room ends", async () => {
    const result = await spawnCli(["demo", "--time-scale", "50"], { lifetimeMs: 15_000 }).exited;
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    const neverReady = /^\[ *\d+\.\ds\] created +(\w+) \(never-ready\)/.exec(lines.find((l) => / created .*\(never-ready\)/.test(l)) ?? "")?.[1];
    expect(neverReady).toBeDefined();
    const waitingLines = lines.filter((l) => / waiting +for /.test(l));
    const endIndex = lines.findIndex((l) => new RegExp(`terminated ${neverReady} \\(never-ready\\) destroyed$`).test(l));
    // The last thing said before the never-ready room's end is what the demo was waiting for: that room.
    expect(lines.slice(0, endIndex).filter((l) => /^\[/.test(l)).at(-1)).toMatch(
      new RegExp(`waiting +for 1 room: ${neverReady} \\(never-ready\\) still starting, ends at its 100 s bind deadline in ~\\d+\\.\\d s$`),
    );
    // Said once per change of what it waits for, not at every tick of the countdown.
    const distinct = new Set(waitingLines.map((l) => l.replace(/^\[ *\d+\.\ds\] /, "").replace(/in ~\d+\.\d s$/, "")));
    expect(distinct.size).toBe(waitingLines.length);
  });

  it("room-watcher demo on a terminal keeps its live line moving and names the room it waits for", async () => {
    let written = "";
    const stdout = { isTTY: true, columns: 400, rows: 50, write: (chunk: string) => ((written += chunk), true) };
    const stderr = { isTTY: true, write: () => true };
    const code = await runCli(["demo", "--time-scale", "50"], { stdout, stderr, env: {}, signal: new AbortController().signal });
    expect(code).toBe(0);
    const neverReady = /^(\w+) +never-ready /m.exec(written)?.[1];
    expect(neverReady).toBeDefined();
    // log-update redraws the line in place: each frame is what the person sees at that moment.
    // eslint-disable-next-line no-control-regex -- the frames are separated by escape sequences
    const frames = written.split(/\u001b\[[0-9;]*[A-Za-z]/).filter((f) => f.startsWith("["));
    const waiting = frames.filter((f) => f.includes(`waiting for 1 room: ${neverReady} (never-ready) still starting, ends at its 100 s bind deadline in ~`));
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    // The clock on the line moves while it waits.
    const clocks = waiting.map((f) => /^\[(\d+\.\d)s\]/.exec(f)?.[1]);
    expect(new Set(clocks).size).toBeGreaterThanOrEqual(2);
  });
});
