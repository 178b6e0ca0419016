/** Every example runs, as a user would run it, and prints what it promises. */
import { readdir, readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, spawnChild } from "../helpers/cli-process.js";

/** Runs an example as a user would (node, a clean environment), killed if it outlives 30 s. */
const run = (file: string) => spawnChild(process.execPath, [file], { lifetimeMs: 30_000 }).exited;

afterEach(killAllCli);

describe("examples", () => {
  it("wait-for-active.mjs waits, then follows a room through a move", async () => {
    const { code, stdout, stderr } = await run("examples/wait-for-active.mjs");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^room \w+ is joinable at 127\.0\.0\.1:\d+ \(udp\)$/);
    expect(lines.slice(1).map((l) => l.replace(/^room \w+: /, "").replace(/\d+/g, "N"))).toEqual([
      "starting",
      "active at N.N.N.N:N",
      "starting again (rescheduled)",
      "active at N.N.N.N:N (moved)",
    ]);
  });

  it("matchmaker.mjs starts five matches at their rooms' true addresses and sends the stuck match's players back", async () => {
    const { code, stdout, stderr } = await run("examples/matchmaker.mjs");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    const started = lines.filter((l) => /^match-\d: \d players -> 127\.0\.0\.1:\d+ \(room \w+, \d+ ms\)$/.test(l));
    expect(started.map((l) => l.slice(0, 7)).sort()).toEqual(["match-1", "match-2", "match-3", "match-4", "match-5"]);
    expect(lines).toContainEqual(expect.stringMatching(/^match-6: room \w+ not joinable within 1500 ms; destroyed it, 2 players back in the queue$/));
    expect(lines).toContainEqual(expect.stringMatching(/^5 of 6 matches started; \d+ connection-info requests in all$/));
    const checks = lines.filter((l) => l.startsWith("check "));
    expect(checks).toHaveLength(6);
    for (const check of checks.slice(0, 5)) {
      const [, reported, truth] = /^check match-\d: (\S+) \/ simulator: (\S+)$/.exec(check) ?? [];
      expect(reported).toBe(truth);
    }
    expect(checks[5]).toMatch(/^check match-6: none \/ simulator: destroyed$/);
    expect(stdout).not.toContain("dev-token");
  });

  it("agones-matchmaker.mjs allocates a GameServer, hands out its address once the match is loaded, and follows it to its shutdown", async () => {
    const { code, stdout, stderr } = await run("examples/agones-matchmaker.mjs");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^allocated arena-\d$/);
    const name = lines[0]?.slice("allocated ".length);
    expect(lines[1]).toMatch(new RegExp(`^match-1: players -> 127\\.0\\.0\\.1:\\d+ \\(udp, ${name}\\)$`));
    const [, reported, truth] = /^check \S+: (\S+) \/ simulator: (\S+) loaded$/.exec(lines[2] ?? "") ?? [];
    expect(reported).toBeDefined();
    expect(reported).toBe(truth);
    expect(lines[3]).toBe(`${name} ended: shutdown (Agones Shutdown)`);
    expect(lines).toHaveLength(4);
  });

  it("gateway-client.mjs waits through the gateway, follows a room to its end, and exits cleanly", async () => {
    const { code, stdout, stderr } = await run("examples/gateway-client.mjs");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^gateway at ws:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/^room \w+ is joinable at 127\.0\.0\.1:\d+ \(udp\)$/);
    expect(lines.slice(2, 5).map((l) => l.replace(/^room \w+: /, "").replace(/\d+/g, "N"))).toEqual([
      "starting",
      "active at N.N.N.N:N",
      "ended (destroyed)",
    ]);
    // Two rooms, one upstream watch each: a handful of requests, not one loop per waiter.
    const requests = Number(/^upstream requests: (\d+) for 2 rooms$/.exec(lines[5] ?? "")?.[1]);
    expect(requests).toBeGreaterThanOrEqual(4);
    expect(requests).toBeLessThan(20);
  });

  it("every file in examples/ is run by a test (this file, test/project/example-*.test.ts, or a browser test)", async () => {
    const examples = (await readdir("examples", { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    const testFiles = [
      ...(await readdir("test/project")).filter((f) => f === "examples.test.ts" || /^example-.*\.test\.ts$/.test(f)).map((f) => `test/project/${f}`),
      ...(await readdir("test/browser")).filter((f) => f.endsWith(".test.ts")).map((f) => `test/browser/${f}`),
    ];
    expect(testFiles.length).toBeGreaterThanOrEqual(3);
    const tests = await Promise.all(testFiles.map((f) => readFile(f, "utf8")));
    // A test runs an example by its path: spawned as "examples/x.mjs" (for a folder, a file in it), or held in a constant as such.
    const untested = examples
      .filter((entry) => !tests.some((text) => text.includes(entry.isDirectory() ? `"examples/${entry.name}/` : `"examples/${entry.name}"`)))
      .map((entry) => entry.name);
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(untested).toEqual([]);
  });
});
