#!/usr/bin/env bash
# Does the package install cleanly and work as a user gets it? Lints the package (publint, are the
# types wrong), packs it, installs the tarball into a scratch project (its dependencies come from the
# registry), imports it from ESM and from CommonJS, type-checks a consumer, runs the CLI from it, and
# uses the `room-watcher/sdk` entry with and without the optional SDK installed.
# Needs a build (dist/). Usage: bash scripts/check-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "== publint"
npx --no-install publint --strict
echo "== are the types wrong"
# ESM only: node10 resolution cannot see the ./sdk subpath and TypeScript's node16 CommonJS mode
# cannot require ESM; the "esm-only" profile leaves out exactly those two (Node >= 20.19 itself
# requires ESM, checked for real below).
npx --no-install attw --pack . --profile esm-only

scratch=$(mktemp -d "${TMPDIR:-/tmp}/room-watcher-pack.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "== npm pack"
tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
tar -tzf "$scratch/$tarball" | sort > "$scratch/files.txt"
echo "$(wc -l < "$scratch/files.txt") files in $tarball"
# Every map's sources resolve inside the package (go-to-definition lands on TypeScript, not on nothing).
tar -xzf "$scratch/$tarball" -C "$scratch"
node -e '
  const fs = require("fs"), path = require("path");
  const root = process.argv[1];
  let maps = 0;
  for (const file of fs.readdirSync(path.join(root, "dist"), { recursive: true })) {
    if (!String(file).endsWith(".map")) continue;
    maps++;
    const map = JSON.parse(fs.readFileSync(path.join(root, "dist", String(file)), "utf8"));
    for (const source of map.sources) {
      const resolved = path.resolve(path.dirname(path.join(root, "dist", String(file))), map.sourceRoot ?? "", source);
      if (!fs.existsSync(resolved)) throw new Error(`${file}: source ${source} is not in the package`);
    }
  }
  console.log(`${maps} source and declaration maps, every source in the package`);
' "$scratch/package"
rm -rf "$scratch/package"
# What ships: the build, the TypeScript sources its source and declaration maps point to, the README;
# never tests, examples or scripts.
# The dashboard's page, script and style sheet ship as they are, beside the module that serves them.
if grep -Ev '^package/(dist/.*\.(js|d\.ts|js\.map|d\.ts\.map)|src/.*\.ts|(dist|src)/gateway/dashboard/assets/dashboard\.(html|css|js)|README\.md|package\.json|LICENSE)$' "$scratch/files.txt"; then
  echo "unexpected files in the tarball (above)" >&2
  exit 1
fi

echo "== install the tarball into a scratch project"
mkdir "$scratch/app"
cd "$scratch/app"
printf '{ "name": "scratch", "private": true }\n' > package.json
npm install --no-audit --no-fund --loglevel=error "$scratch/$tarball"

# Both module systems: start the simulator, wait for a cold room, check the port against its truth.
cat > esm.mjs <<'EOF'
import { waitForActive, HathoraHttpSource, RoomWatcherError } from "room-watcher";
import { Simulator } from "room-watcher/simulator";
const sim = await Simulator.start({ seed: 3, timeScale: 50 });
try {
  const { roomId } = sim.createRoom("app-pack", { scenario: "cold" });
  const { exposedPort } = await waitForActive({ roomId, appId: "app-pack", baseUrl: sim.url, timeoutMs: 20_000 });
  if (exposedPort.port !== sim.truth(roomId)?.exposedPort?.port) throw new Error("wrong port");
  if (typeof HathoraHttpSource !== "function" || typeof RoomWatcherError !== "function") throw new Error("missing exports");
  console.log(`esm ok ${exposedPort.host}:${exposedPort.port}`);
} finally {
  await sim.close();
}
// The Edgegap entry against the fake Edgegap.
const { EdgegapHttpSource } = await import("room-watcher/edgegap");
const { EdgegapSimulator } = await import("room-watcher/simulator");
const edgegap = await EdgegapSimulator.start({ seed: 3, timeScale: 50, token: "pack-token-1234" });
try {
  const id = edgegap.createDeployment();
  const source = new EdgegapHttpSource({ token: "pack-token-1234", portName: "gameport", baseUrl: edgegap.url });
  const { exposedPort } = await waitForActive({ roomId: id, source, timeoutMs: 20_000 });
  if (exposedPort.port !== edgegap.truth(id)?.externalPorts.gameport) throw new Error("wrong edgegap port");
  console.log(`edgegap esm ok ${exposedPort.host}:${exposedPort.port}`);
} finally {
  await edgegap.close();
}
EOF
cat > cjs.cjs <<'EOF'
const { waitForActive } = require("room-watcher");
const { Simulator } = require("room-watcher/simulator");
(async () => {
  const sim = await Simulator.start({ seed: 4, timeScale: 50 });
  try {
    const { roomId } = sim.createRoom("app-pack", { scenario: "cold" });
    const { exposedPort } = await waitForActive({ roomId, appId: "app-pack", baseUrl: sim.url, timeoutMs: 20_000 });
    if (exposedPort.port !== sim.truth(roomId)?.exposedPort?.port) throw new Error("wrong port");
    console.log(`cjs ok ${exposedPort.host}:${exposedPort.port}`);
  } finally {
    await sim.close();
  }
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
EOF
# Without the optional SDK: the main entry loads; the sdk entry says what is missing.
cat > no-sdk.mjs <<'EOF'
await import("room-watcher");
try {
  await import("room-watcher/sdk");
  throw new Error("room-watcher/sdk loaded without @hathora/cloud-sdk-typescript");
} catch (error) {
  if (error.code !== "ERR_MODULE_NOT_FOUND" || !error.message.includes("@hathora/cloud-sdk-typescript")) throw error;
  console.log("no-sdk ok: room-watcher loads; room-watcher/sdk needs @hathora/cloud-sdk-typescript");
}
EOF

run_clean() {
  # Runs node on a file; fails on a non-zero exit or on anything written to stderr (warnings included).
  local out err
  err=$(mktemp)
  if ! out=$(node "$@" 2> "$err"); then cat "$err" >&2; exit 1; fi
  if [ -s "$err" ]; then echo "node $* wrote to stderr:" >&2; cat "$err" >&2; exit 1; fi
  rm -f "$err"
  echo "$out"
}

echo "== node $(node --version): import (ESM) and require (CommonJS)"
run_clean esm.mjs
run_clean cjs.cjs
run_clean no-sdk.mjs

echo "== the CLI from the installed package"
[ -x node_modules/.bin/room-watcher ]
node_modules/.bin/room-watcher --help | grep -q "Exit codes:"
node_modules/.bin/room-watcher --version | grep -qx "$(node -p 'require("./node_modules/room-watcher/package.json").version')"
set +e
node_modules/.bin/room-watcher wait some-room > /dev/null 2>&1
usage=$?
set -e
[ "$usage" -eq 2 ] || { echo "wait without --app-id exited $usage, expected 2" >&2; exit 1; }
node_modules/.bin/room-watcher demo --json --time-scale 50 > demo.json
node -e '
  const s = JSON.parse(require("fs").readFileSync("demo.json", "utf8"));
  if (s.rooms === 0 || s.matching !== s.rooms) throw new Error(`demo: ${s.matching}/${s.rooms} rooms match`);
  console.log(`cli ok: demo ${s.matching}/${s.rooms} rooms match the simulator`);
'

echo "== the gateway's dashboard from the installed package"
# Its static files must be in the package: the page, its script and its style are served, and the figures need the token.
cat > dashboard.mjs <<'EOF'
import { Gateway } from "room-watcher/gateway";
import { Simulator } from "room-watcher/simulator";
const sim = await Simulator.start({ seed: 6 });
const gateway = await Gateway.start({ baseUrl: sim.url, appId: "app-pack", metricsToken: "pack-metrics-token", dashboard: true, defaultMetrics: false });
try {
  for (const path of ["", "/app.js", "/app.css"]) {
    const response = await fetch(`${gateway.dashboardUrl}${path}`);
    const body = await response.text();
    if (response.status !== 200 || body.length === 0) throw new Error(`dashboard${path}: ${response.status}`);
    if (!response.headers.get("content-security-policy")?.includes("script-src 'self'")) throw new Error(`dashboard${path}: no CSP`);
  }
  const refused = await fetch(`${gateway.dashboardUrl}/api/snapshot`);
  if (refused.status !== 401) throw new Error(`snapshot without a token: ${refused.status}`);
  const snapshot = await (await fetch(`${gateway.dashboardUrl}/api/snapshot`, { headers: { authorization: "Bearer pack-metrics-token" } })).json();
  if (snapshot.upstream?.budgetPerSecond !== 100) throw new Error(`snapshot: ${JSON.stringify(snapshot)}`);
  console.log("dashboard ok: page, script, style and snapshot served from the installed package");
} finally {
  await gateway.close();
  await sim.close();
}
EOF
run_clean dashboard.mjs

echo "== with the optional SDK: room-watcher/sdk from ESM and CommonJS"
npm install --no-audit --no-fund --loglevel=error "@hathora/cloud-sdk-typescript@$(node -p "require('$root/node_modules/@hathora/cloud-sdk-typescript/package.json').version")"
cat > sdk.mjs <<'EOF'
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import { waitForActive } from "room-watcher";
import { Simulator } from "room-watcher/simulator";
import { HathoraSdkSource } from "room-watcher/sdk";
const sim = await Simulator.start({ seed: 5, timeScale: 50 });
try {
  const { roomId } = sim.createRoom("app-pack", { scenario: "cold" });
  const source = new HathoraSdkSource({ client: new HathoraCloud({ serverURL: sim.url, appId: "app-pack" }) });
  const { exposedPort } = await waitForActive({ roomId, source, timeoutMs: 20_000 });
  if (exposedPort.port !== sim.truth(roomId)?.exposedPort?.port) throw new Error("wrong port");
  console.log(`sdk esm ok ${exposedPort.host}:${exposedPort.port}`);
} finally {
  await sim.close();
}
EOF
cat > sdk.cjs <<'EOF'
const { HathoraSdkSource } = require("room-watcher/sdk");
const { HathoraCloud } = require("@hathora/cloud-sdk-typescript");
const source = new HathoraSdkSource({ client: new HathoraCloud({ appId: "app-pack" }) });
if (source.appId !== "app-pack") throw new Error("appId");
console.log("sdk cjs ok");
EOF
run_clean sdk.mjs
run_clean sdk.cjs

echo "== a TypeScript consumer type-checks (nodenext, strict)"
cat > consumer.mts <<'EOF'
import { HathoraCloud } from "@hathora/cloud-sdk-typescript";
import { type ActiveConnection, RoomWatcher, waitForActive } from "room-watcher";
import { HathoraSdkSource } from "room-watcher/sdk";
const source = new HathoraSdkSource({ client: new HathoraCloud({ appId: "app" }) });
const connection: ActiveConnection = await waitForActive({ roomId: "r", source });
const port: number = connection.exposedPort.port;
const watcher = new RoomWatcher({ roomId: "r", appId: "app" });
watcher.on("active", (event) => console.log(event.exposedPort.host, port));
EOF
node "$root/node_modules/typescript/bin/tsc" --noEmit --strict --exactOptionalPropertyTypes --module nodenext --moduleResolution nodenext \
  --target es2022 --skipLibCheck --types node --typeRoots "$root/node_modules/@types" consumer.mts
echo "types ok"

echo "package check passed"
