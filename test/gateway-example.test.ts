/** examples/gateway-client.mjs runs as a user would run it and prints what it promises. */
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

describe("examples/gateway-client.mjs", () => {
  it("waits through the gateway, follows a room to its end, and exits cleanly", async () => {
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
});
