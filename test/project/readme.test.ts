/**
 * The README's code runs as printed. Every ```js block of README.md is written to a scratch project that
 * has room-watcher installed (node_modules/room-watcher is this package, so its import resolves to the
 * built dist/ through the exports map, as in a user's project) and run there with node. Each block must
 * exit 0 on its own (nothing left running), write nothing to stderr, and print what the README says it
 * prints. A js block this file does not know fails the test: a new one needs its expectations here.
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliExit, killAllCli, spawnChild } from "../helpers/cli-process.js";
import { type FencedBlock, fencedBlocks } from "../helpers/markdown.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const blocks = fencedBlocks(README);
const jsBlocks = blocks.filter((block) => block.lang === "js");

/** STYLE.md: the README is for a newcomer's first three minutes, about 300 lines. */
const MAX_README_LINES = 320;

let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "room-watcher-readme-"));
  await mkdir(join(project, "node_modules"));
  await symlink(ROOT, join(project, "node_modules", "room-watcher"), "dir");
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "readme-user", private: true, type: "module" }));
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

afterEach(killAllCli);

/** Runs one README block as a user's module, killed if it outlives 30 s. */
async function run(block: FencedBlock): Promise<CliExit> {
  const file = join(project, `readme-line-${block.line}.mjs`);
  await writeFile(file, block.code);
  return spawnChild(process.execPath, [file], { lifetimeMs: 30_000 }).exited;
}

/** The one block under a `##` section; fails if there is none or more than one. */
function blockIn(section: string): FencedBlock {
  const found = jsBlocks.filter((block) => block.section === section);
  expect(found, `js blocks under "## ${section}"`).toHaveLength(1);
  return found[0] as FencedBlock;
}

/** The README block right after `block` (its "It prints" output), if it is a text block. */
function outputAfter(block: FencedBlock): FencedBlock | undefined {
  const next = blocks[blocks.indexOf(block) + 1];
  return next?.lang === "text" && next.section === block.section ? next : undefined;
}

/** Room ids and numbers vary from run to run; the shape of each line does not. */
const shape = (text: string): string[] =>
  text
    .trim()
    .split("\n")
    .map((line) => line.replace(/^room \w+/, "room ID").replace(/\d+/g, "N"));

const EXPECTED_SECTIONS = ["Quick start", "Cancellation and cleanup", "The gateway in 30 seconds"];

describe("README.md", () => {
  it(`stays short: at most ${MAX_README_LINES} lines, no dated benchmark logs`, () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(MAX_README_LINES);
    // Dated runs live in docs/benchmarks.md; the README quotes at most six headline rows: the fleet, the
    // gateway, shared mode, the gateway under attack, and one for each provider beyond Hathora.
    const datedLines = README.split("\n").filter((line) => /\b20\d\d-\d\d-\d\d\b/.test(line));
    expect(datedLines.length).toBeLessThanOrEqual(6);
  });

  it("has a test below for every js block it shows", () => {
    expect(jsBlocks.map((block) => block.section)).toEqual(EXPECTED_SECTIONS);
  });

  it("Quick start is examples/wait-for-active.mjs word for word, runs, and prints what the README shows", async () => {
    const block = blockIn("Quick start");
    expect(block.code).toBe(readFileSync(join(ROOT, "examples", "wait-for-active.mjs"), "utf8"));
    const { code, stdout, stderr } = await run(block);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const shown = outputAfter(block);
    expect(shown, "the README shows the quick start's output in a text block").toBeDefined();
    expect(shape(stdout)).toEqual(shape(shown?.code ?? ""));
    expect(shape(stdout)).toEqual([
      "room ID is joinable at N.N.N.N:N (udp)",
      "room ID: starting",
      "room ID: active at N.N.N.N:N",
      "room ID: starting again (rescheduled)",
      "room ID: active at N.N.N.N:N (moved)",
    ]);
  });

  it("Cancellation and cleanup: an abort rejects with signal.reason, a destroyed room with RoomTerminatedError, and the process exits", async () => {
    const { code, stdout, stderr } = await run(blockIn("Cancellation and cleanup"));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe("aborted: the player left the queue\nRW_ROOM_TERMINATED: destroyed\n");
    expect(README).toContain("It prints `aborted: the player left the queue`, then `RW_ROOM_TERMINATED: destroyed`.");
  });

  it("The gateway in 30 seconds: twenty waiters through the gateway cost fewer upstream requests than waiters", async () => {
    const { code, stdout, stderr } = await run(blockIn("The gateway in 30 seconds"));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const requests = Number(/^20 waiters served; (\d+) upstream requests for 2 rooms\n$/.exec(stdout)?.[1]);
    // Polling alone, each of the 20 waiters would make at least one request: the gateway polls each room once.
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThan(20);
    expect(README).toMatch(/It prints `20 waiters served; \d+ upstream requests for 2 rooms`/);
  });
});
