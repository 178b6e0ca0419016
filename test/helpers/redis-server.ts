/**
 * A real redis-server (Debian's) for one test file: spawned on 127.0.0.1 on a free port, no
 * persistence, killed after. Restartable on the same port, empty (a Redis that lost everything).
 * Without redis-server the test fails with how to install it: it never skips.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeStablePort } from "./free-port.js";

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> (with the password, when started with one). */
  readonly url: string;
  /** Kills the server (SIGKILL: nothing is saved) and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Starts it again if a test killed it and failed before restarting it, so later tests still have a Redis. */
  ensureRunning(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

export function redisServerPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("redis-server is not installed: run `bash scripts/redis.sh install` (apt-get install -y redis-server)");
  }
}

/** Spawns redis-server and resolves once it accepts connections (its log says so), or rejects with its output. */
function spawnRedis(binary: string, port: number, dir: string, password: string | undefined): Promise<ChildProcess> {
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "notice"];
  if (password !== undefined) args.push("--requirepass", password);
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("exit", (code, signal) => reject(new Error(`redis-server exited (${String(code ?? signal)}) before it was ready: ${output.slice(-2000)}`)));
    child.once("error", reject);
  });
}

export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const binary = redisServerPath();
  const dir = mkdtempSync(join(tmpdir(), "room-watcher-redis-"));
  let port = 0;
  let child: ChildProcess | undefined;
  // A port found free can be taken before redis binds it: try a few.
  for (let attempt = 1; child === undefined; attempt++) {
    // Below the ephemeral range: restart() binds the same port again, which an outgoing connection
    // could otherwise have taken meanwhile.
    port = await freeStablePort();
    try {
      child = await spawnRedis(binary, port, dir, options.password);
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGKILL");
    });
  };
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    kill,
    restart: async () => {
      await kill();
      child = await spawnRedis(binary, port, dir, options.password);
    },
    ensureRunning: async () => {
      if (child === undefined) child = await spawnRedis(binary, port, dir, options.password);
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
