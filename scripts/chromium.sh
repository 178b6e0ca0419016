#!/usr/bin/env bash
# Chromium for the browser tests (Debian's `chromium`, driven by playwright-core; see docs/development.md).
#
#   bash scripts/chromium.sh install   install chromium if it is missing (apt-get; root or sudo)
#   bash scripts/chromium.sh path      print the binary the tests launch
#
# playwright-core never downloads a browser: the tests launch this binary by path (test/helpers/browser.ts),
# which ROOM_WATCHER_CHROMIUM overrides. `npm test` runs this install when the binary is missing (test/global-setup.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ROOM_WATCHER_CHROMIUM:-/usr/bin/chromium}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "chromium.sh: need root (or sudo) to run: $*" >&2; return 1
  fi
}

case "${1:-}" in
  install)
    if [ -x "$bin" ]; then
      echo "chromium already installed: $("$bin" --version 2>/dev/null || echo "$bin")"
      exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine: update only if the first try fails.
    if ! as_root apt-get install -y --no-install-recommends chromium >/dev/null; then
      as_root apt-get update >/dev/null
      as_root apt-get install -y --no-install-recommends chromium >/dev/null
    fi
    [ -x "$bin" ] || { echo "chromium.sh: $bin still missing after apt-get install chromium" >&2; exit 1; }
    echo "installed $("$bin" --version)"
    ;;
  path)
    echo "$bin"
    ;;
  *)
    echo "usage: bash scripts/chromium.sh install | path" >&2
    exit 2
    ;;
esac
