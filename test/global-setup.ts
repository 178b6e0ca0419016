/**
 * Runs once before any test file. The shared-mode tests need Debian's redis-server (each file starts
 * its own on a free loopback port and stops it after). On a fresh machine it is missing: install it
 * through the project's script (apt-get, as root or through sudo). If that cannot be done the run
 * stops here, loudly, with what to do, instead of each Redis test failing on its own.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { redisServerPath } from "./helpers/redis-server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function installed(): boolean {
  try {
    redisServerPath();
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  if (installed()) return;
  process.stderr.write("redis-server is missing (the gateway's shared-mode tests need it): bash scripts/redis.sh install\n");
  const install = spawnSync("bash", ["scripts/redis.sh", "install"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (install.status !== 0 || !installed()) {
    throw new Error(
      "redis-server is not installed and `bash scripts/redis.sh install` could not install it " +
        `(exit ${String(install.status ?? install.signal)}). It needs apt-get as root or through sudo; ` +
        "install Debian's redis-server (apt-get install -y redis-server) and run the tests again.",
    );
  }
}
