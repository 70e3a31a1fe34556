#!/usr/bin/env bash
# `make down`: stop the worker, then the server, that `make up` started (their pid files in
# data/run/). A worker outlives its server badly (it ignores SIGTERM once the API is gone),
# so it goes first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stop() {
  local name="$1" file="$RUN_DIR/$1.pid" pid
  if ! alive "$file"; then
    echo "$name: not running"
    rm -f "$file"
    return
  fi
  pid="$(cat "$file")"
  echo "Stopping the $name (process group $pid)..."
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name did not stop in 20 s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

for pidfile in "$RUN_DIR"/worker*.pid; do
  [[ -e "$pidfile" ]] || continue
  name="$(basename "$pidfile" .pid)"
  stop "$name"
done
stop server
