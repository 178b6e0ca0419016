/**
 * Tokens no HTTP header can carry, given to the CLI as a user would (a flag or its environment
 * variable, through the built CLI as a child process): `wait` and `watch` exit 2 at once naming
 * `--token` instead of retrying a "network error" until the deadline; `gateway` exits 2 naming the
 * flag instead of starting a gateway no client (or game server, or upstream) could use. The token
 * itself is never printed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, spawnCli } from "../helpers/cli-process.js";
import { freeStablePort } from "../helpers/free-port.js";

const SECRET = "s3cret-part";

afterEach(async () => {
  await killAllCli();
});

/** A run that must end with exit 2 at once: the flag named, nothing on stdout, the token nowhere. */
function expectRefused(run: { code: number | null; stdout: string; stderr: string }, flag: string, reason: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(new RegExp(`^room-watcher: ${flag.replace(/-/g, "\\-")} `));
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).not.toContain(SECRET);
}

describe("wait and watch refuse a token no header can carry", () => {
  // A deadline the old behaviour (retrying as a network error) would reach within the test: exit 4.
  const cases: ReadonlyArray<readonly [label: string, command: "wait" | "watch", token: string, viaEnv: boolean, reason: RegExp]> = [
    ["a newline, as a flag", "wait", `${SECRET}\nrest`, false, /line feed/],
    ["a trailing newline, from HATHORA_TOKEN", "wait", `${SECRET}\n`, true, /line feed.*ends with one/],
    ["a carriage return", "watch", `${SECRET}\rrest`, false, /carriage return/],
    ["a non-ASCII letter", "wait", `${SECRET}\u00e9`, false, /printable ASCII/],
  ];
  it.each(cases)("%s (%s): exit 2 naming --token", async (_label, command, token, viaEnv, reason) => {
    const port = await freeStablePort();
    const args = [command, "room-1", "--app-id", "app-1", "--base-url", `http://127.0.0.1:${port}`, "--timeout", "3000"];
    const run = await spawnCli(viaEnv ? args : [...args, "--token", token], viaEnv ? { env: { HATHORA_TOKEN: token } } : {}).exited;
    expectRefused(run, "--token", reason);
  });
});

describe("gateway refuses to start with a token no client could present", () => {
  const cases: ReadonlyArray<readonly [flag: string, env: string, token: string, reason: RegExp]> = [
    ["--client-token", "ROOM_WATCHER_GATEWAY_TOKEN", `${SECRET}\n`, /line feed/],
    ["--client-token", "ROOM_WATCHER_GATEWAY_TOKEN", ` ${SECRET}`, /whitespace/],
    // (A NUL cannot reach a process at all: argv and the environment end strings at it.)
    ["--hint-token", "ROOM_WATCHER_HINT_TOKEN", `${SECRET}\u001b[0m`, /control character \(U\+001B\)/],
    ["--token", "HATHORA_TOKEN", `${SECRET}\u20ac`, /printable ASCII/],
  ];
  it.each(cases)("%s (or %s) %j: exit 2 naming the flag, no URL printed", async (flag, env, token, reason) => {
    const common = ["gateway", "--base-url", "http://127.0.0.1:59", "--app-id", "app-1"];
    const [asFlag, asEnv] = await Promise.all([
      spawnCli([...common, flag, token], { lifetimeMs: 5_000 }).exited,
      spawnCli(common, { lifetimeMs: 5_000, env: { [env]: token } }).exited,
    ]);
    expectRefused(asFlag, flag, reason);
    expectRefused(asEnv, flag, reason);
    expect(asEnv.stderr).toContain(env);
  });
});
