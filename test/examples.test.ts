/** Every example runs, as a user would run it, and prints what it promises. */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

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
});
