/**
 * scripts/chromium.sh and the harness's check for Chromium: idempotent install, the path the tests use
 * (ROOM_WATCHER_CHROMIUM overrides it in both), usage errors, and the message a run without Chromium gets.
 * Needs Chromium installed, as the browser tests do (CI installs it first).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { chromiumPath } from "../helpers/browser.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function script(args: string[], env: Record<string, string> = {}) {
  return spawnSync("bash", ["scripts/chromium.sh", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
}

describe("scripts/chromium.sh", () => {
  it("install is a no-op once Chromium is there, and says which", () => {
    const run = script(["install"], { ROOM_WATCHER_CHROMIUM: chromiumPath() });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^chromium already installed: Chromium \d+\./);
  });

  it("path prints the binary the tests launch, ROOM_WATCHER_CHROMIUM included", () => {
    expect(script(["path"], { ROOM_WATCHER_CHROMIUM: "" }).stdout.trim()).toBe("/usr/bin/chromium");
    expect(script(["path"], { ROOM_WATCHER_CHROMIUM: "/opt/chrome/chrome" }).stdout.trim()).toBe("/opt/chrome/chrome");
  });

  it("anything else is a usage error, exit 2", () => {
    const run = script(["nope"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("usage: bash scripts/chromium.sh install | path");
  });
});

describe("the browser harness without Chromium", () => {
  const saved = process.env.ROOM_WATCHER_CHROMIUM;
  afterEach(() => {
    if (saved === undefined) delete process.env.ROOM_WATCHER_CHROMIUM;
    else process.env.ROOM_WATCHER_CHROMIUM = saved;
  });

  it("fails naming the install command", () => {
    process.env.ROOM_WATCHER_CHROMIUM = "/nonexistent/chromium";
    expect(() => chromiumPath()).toThrow(/no executable \/nonexistent\/chromium.*bash scripts\/chromium\.sh install/);
  });
});
