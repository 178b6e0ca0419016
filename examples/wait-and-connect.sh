#!/usr/bin/env bash
# Wait until a room is joinable, then hand its address to a game client; act on every exit code of
# `room-watcher wait`.
#
# Usage: examples/wait-and-connect.sh <roomId>
#   HATHORA_APP_ID (required), HATHORA_BASE_URL (default https://api.hathora.dev) come from the
#   environment; WAIT_TIMEOUT_MS (default 120000) bounds the wait; CLIENT is the command that gets
#   the address (default: echo it).
# room-watcher comes from PATH (a global install, or `npm link` in a clone); without it, from the clone
# this script sits in (npm ci && npm run build first).
# Try it on the simulator (in a clone without room-watcher on PATH: node dist/cli/main.js simulate ...):
#   room-watcher simulate --port 4000 &
#   room=$(curl -s -X POST -H 'Authorization: Bearer dev' -H 'content-type: application/json' \
#     -d '{"region":"Seattle"}' http://127.0.0.1:4000/rooms/v2/app-1/create | jq -r .roomId)
#   HATHORA_APP_ID=app-1 HATHORA_BASE_URL=http://127.0.0.1:4000 examples/wait-and-connect.sh "$room"
set -uo pipefail

room=${1:?usage: wait-and-connect.sh <roomId>}

# In a fresh clone nothing puts room-watcher on PATH: fall back to the clone's own built CLI.
if command -v room-watcher >/dev/null 2>&1; then
  room_watcher() { room-watcher "$@"; }
else
  cli="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dist/cli/main.js"
  if [[ ! -f $cli ]]; then
    echo "room-watcher is not on PATH, and $cli is not built: run npm ci && npm run build (or npm link)" >&2
    exit 127
  fi
  room_watcher() { node "$cli" "$@"; }
fi

# Ctrl-C reaches room-watcher too (same process group); it stops cleanly and exits 130. Without a trap,
# bash would die of the SIGINT while it reads the command's output, before it could act on that code.
trap 'true' INT

# stdout is host:port once the room is active; diagnostics go to stderr.
address=$(room_watcher wait "$room" --timeout "${WAIT_TIMEOUT_MS:-120000}")
status=$?

case $status in
  0)
    echo "room $room is joinable at $address"
    exec ${CLIENT:-echo connect} "$address"
    ;;
  2)
    echo "bad arguments or configuration (is HATHORA_APP_ID set?)" >&2
    ;;
  3)
    echo "room $room ended before it became joinable (destroyed, suspended or not found): create another" >&2
    ;;
  4)
    echo "room $room was not joinable within ${WAIT_TIMEOUT_MS:-120000} ms: give up or destroy it" >&2
    ;;
  5)
    echo "the rooms API refused our credentials (401 or 403): check HATHORA_TOKEN" >&2
    ;;
  130)
    echo "interrupted" >&2
    ;;
  *)
    echo "room-watcher failed (exit $status): an API error or a bug; see its message above" >&2
    ;;
esac
exit "$status"
