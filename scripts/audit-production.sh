#!/usr/bin/env bash
# npm audit of the production dependencies: fails on a high or critical advisory. When the registry
# cannot answer audits at all (a mirror without the advisories endpoint answers 405), says so loudly
# and goes on, unless ROOM_WATCHER_REQUIRE_AUDIT=1: an unreachable audit is not a clean one.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$(npm audit --omit=dev --audit-level=high --json 2>/dev/null)
status=$?
printf '%s' "$report" | node -e '
  const status = Number(process.argv[1]);
  const text = require("fs").readFileSync(0, "utf8");
  let report;
  try { report = JSON.parse(text); } catch { report = undefined; }
  const counts = report?.metadata?.vulnerabilities;
  if (counts !== undefined) {
    console.log(`npm audit (production dependencies): ${JSON.stringify(counts)}`);
    process.exit(status === 0 ? 0 : 1);
  }
  const why = report?.message ?? report?.error?.summary ?? (text.trim() || "no output");
  console.log(`WARNING: npm audit could not run: ${why}`);
  process.exit(process.env.ROOM_WATCHER_REQUIRE_AUDIT === "1" ? 1 : 0);
' "$status"
