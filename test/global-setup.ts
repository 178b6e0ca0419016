/**
 * Runs once before any test file. Two tests need a program from Debian: the gateway's shared-mode tests
 * need redis-server (each file starts its own on a free loopback port and stops it after), and the
 * browser tests need Chromium. On a fresh machine they are missing: install them through the project's
 * scripts (apt-get, as root or through sudo), so `npm test` passes there as the README promises. If that
 * cannot be done the run stops here, loudly, with what to do, instead of each such test failing on its own.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromiumPath } from "./helpers/chromium-path.js";
import { redisServerPath } from "./helpers/redis-server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Requirement {
  /** The Debian package, as a person would install it. */
  readonly debianPackage: string;
  /** Which tests need it. */
  readonly neededBy: string;
  /** The project's install script, under scripts/. */
  readonly script: string;
  /** Throws when the program is missing. */
  readonly find: () => unknown;
}

const REQUIREMENTS: readonly Requirement[] = [
  { debianPackage: "redis-server", neededBy: "the gateway's shared-mode tests", script: "scripts/redis.sh", find: redisServerPath },
  { debianPackage: "chromium", neededBy: "the browser tests", script: "scripts/chromium.sh", find: chromiumPath },
];

function installed(requirement: Requirement): boolean {
  try {
    requirement.find();
    return true;
  } catch {
    return false;
  }
}

function ensure(requirement: Requirement): void {
  if (installed(requirement)) return;
  const command = `bash ${requirement.script} install`;
  process.stderr.write(`${requirement.debianPackage} is missing (${requirement.neededBy} need it): ${command}\n`);
  const install = spawnSync("bash", [requirement.script, "install"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (install.status !== 0 || !installed(requirement)) {
    throw new Error(
      `${requirement.debianPackage} is not installed and \`${command}\` could not install it ` +
        `(exit ${String(install.status ?? install.signal)}). It needs apt-get as root or through sudo; ` +
        `install Debian's ${requirement.debianPackage} (apt-get install -y ${requirement.debianPackage}) and run the tests again.`,
    );
  }
}

export default function setup(): void {
  for (const requirement of REQUIREMENTS) ensure(requirement);
}
