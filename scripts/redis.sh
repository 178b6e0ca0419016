#!/usr/bin/env bash
# Redis for the gateway's shared mode, on loopback, for tests, CI and benchmarks (Debian's redis-server).
#
#   bash scripts/redis.sh install        install redis-server if it is missing (apt-get; root or sudo)
#   bash scripts/redis.sh start [port]   start one in the background on 127.0.0.1 (a free port unless
#                                        given), no persistence; prints its URL; pid and files in
#                                        ${ROOM_WATCHER_REDIS_DIR:-.redis}
#   bash scripts/redis.sh stop           stop the one `start` started
#   bash scripts/redis.sh url            print its URL
#
# The tests do not need `start`: each test file that needs Redis starts its own redis-server on a free
# port and stops it after (test/helpers/redis-server.ts). They need `install`, and fail loudly without it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${ROOM_WATCHER_REDIS_DIR:-.redis}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "redis.sh: need root (or sudo) to run: $*" >&2; return 1
  fi
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

case "${1:-}" in
  install)
    if command -v redis-server >/dev/null; then
      echo "redis-server already installed: $(redis-server --version)"
      exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine: update only if the first try fails.
    if ! as_root apt-get install -y --no-install-recommends redis-server >/dev/null; then
      as_root apt-get update >/dev/null
      as_root apt-get install -y --no-install-recommends redis-server >/dev/null
    fi
    command -v redis-server >/dev/null || { echo "redis.sh: redis-server still missing after apt-get install" >&2; exit 1; }
    echo "installed $(redis-server --version)"
    ;;
  start)
    command -v redis-server >/dev/null || { echo "redis.sh: redis-server is not installed (bash scripts/redis.sh install)" >&2; exit 1; }
    if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
      echo "redis.sh: already running (pid $(cat "$dir/redis.pid")): $(cat "$dir/url")" >&2
      exit 1
    fi
    mkdir -p "$dir"
    port=${2:-$(free_port)}
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log"
    for _ in $(seq 50); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then
        echo "redis://127.0.0.1:$port" | tee "$dir/url"
        exit 0
      fi
      sleep 0.1
    done
    echo "redis.sh: redis-server did not answer on port $port; see $dir/redis.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/redis.pid" ]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/redis.pid" "$dir/url"
      echo "stopped redis-server (pid $pid)"
    else
      echo "redis.sh: not running"
    fi
    ;;
  url)
    cat "$dir/url"
    ;;
  *)
    echo "usage: bash scripts/redis.sh install | start [port] | stop | url" >&2
    exit 2
    ;;
esac
