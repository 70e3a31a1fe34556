#!/usr/bin/env bash
# `make up`: a local Prefect server + work pool + deployments + worker, all state under the
# data dir. SQLite by default; PostgreSQL when PREFECT_API_DATABASE_CONNECTION_URL (or
# PREFECT_SERVER_DATABASE_CONNECTION_URL) is set, e.g.
#   postgresql+asyncpg://user:password@127.0.0.1:5432/prefect
# `make down` stops exactly what this started (process groups recorded in data/run/*.pid).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$RUN_DIR" "$PREFECT_HOME"
UI="http://$HOST:$PORT"

health() { curl -fsS -m 2 "$PREFECT_API_URL/health" >/dev/null 2>&1; }
# quietly LOG COMMAND...: Prefect's own output (tables, hints to start a worker) goes to the
# log; on failure its end is shown.
SETUP_LOG="$RUN_DIR/setup.log"
: >"$SETUP_LOG"
quietly() {
  if ! "$@" >>"$SETUP_LOG" 2>&1; then
    echo "Failed: $* (the end of $SETUP_LOG):" >&2
    tail -n 30 "$SETUP_LOG" >&2
    exit 1
  fi
}

# 0. Redis for results, locks and slot leases: REDIS_URL, else 127.0.0.1:6379 if it answers
SHARED_REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if "$PYTHON" -c "import redis, sys; redis.Redis.from_url(sys.argv[1], socket_timeout=2).ping()" \
  "$SHARED_REDIS" 2>/dev/null; then
  scale_out_env "$SHARED_REDIS"
  REDIS_SAID="Redis $("$PYTHON" -c 'import sys; from ytmaker.redis_conn import describe; import redis; print(describe(redis.Redis.from_url(sys.argv[1])))' "$SHARED_REDIS") (progress, results, locks, slot leases)"
else
  REDIS_SAID="no Redis at $SHARED_REDIS: results stay on this machine's disk (one machine only)"
fi

# 1. the server
if alive "$RUN_DIR/server.pid"; then
  echo "Prefect server: already running (pid $(cat "$RUN_DIR/server.pid"))"
elif health; then
  echo "Something else already answers on $UI; stop it or set PREFECT_SERVER_PORT." >&2
  exit 1
else
  db="SQLite in $PREFECT_HOME"
  if [[ -n "${PREFECT_API_DATABASE_CONNECTION_URL:-${PREFECT_SERVER_DATABASE_CONNECTION_URL:-}}" ]]; then
    db="PostgreSQL (PREFECT_*_DATABASE_CONNECTION_URL)"
  fi
  echo "Prefect server: starting on $UI ($db)..."
  launch "$RUN_DIR/server.pid" "$RUN_DIR/server.log" \
    "$PREFECT" server start --host "$HOST" --port "$PORT"
fi
# A first start migrates a new database: ~15 s on a quiet machine, over 2 minutes on a busy one.
WAIT="${YTMAKER_SERVER_WAIT_SECONDS:-300}"
for _ in $(seq 1 "$WAIT"); do
  health && break
  if ! alive "$RUN_DIR/server.pid"; then
    echo "The Prefect server stopped; the end of $RUN_DIR/server.log:" >&2
    tail -n 30 "$RUN_DIR/server.log" >&2
    rm -f "$RUN_DIR/server.pid"
    exit 1
  fi
  sleep 1
done
health || {
  echo "The Prefect server did not answer within $WAIT s; it is still starting: run make up again" \
    "in a minute, or make down ($RUN_DIR/server.log)" >&2
  exit 1
}

# 2. the work pool, the deployments, the zombie-run automation (their output: setup.log)
if ! "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1; then
  quietly "$PREFECT" work-pool create "$POOL" --type process
fi
YTMAKER_APP_DIR="$ROOT" quietly "$PREFECT" deploy --all --no-prompt
quietly "$PYTHON" deployments/automations.py "${AUTOMATIONS[@]}"
if [[ -n "${PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK:-}" ]]; then
  quietly "$PYTHON" deployments/blocks.py "$REDIS_URL"
fi

# 3. the workers (WORKERS=3 make up): each in its own process group with its own Prefect home
# and temp dir; their flow runs inherit this environment (DATABASE_URL, REDIS_URL, YTMAKER_*)
# and share the data dir.
WORKERS="${WORKERS:-1}"
WORKERS_SAID=""
for i in $(seq 1 "$WORKERS"); do
  name="worker-$i"
  [[ "$i" == 1 ]] && name="worker"  # `make down` of an older checkout knows this one
  if alive "$RUN_DIR/$name.pid"; then
    WORKERS_SAID+=" ytmaker-$name (already running, pid $(cat "$RUN_DIR/$name.pid"))"
    continue
  fi
  home="$RUN_DIR/$name"
  mkdir -p "$home/prefect" "$home/tmp"
  PREFECT_HOME="$home/prefect" TMPDIR="$home/tmp" \
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}" \
    launch "$RUN_DIR/$name.pid" "$RUN_DIR/$name.log" \
    "$PREFECT" worker start --pool "$POOL" --name "ytmaker-$name" --limit "$WORKER_LIMIT"
  WORKERS_SAID+=" ytmaker-$name (pid $(cat "$RUN_DIR/$name.pid"))"
done
sleep 2
for pidfile in "$RUN_DIR"/worker*.pid; do
  alive "$pidfile" || { tail -n 30 "${pidfile%.pid}.log" >&2; exit 1; }
done

cat <<MSG

Ready. Open the Prefect UI: $UI
  make a video:  Deployments > new-video > Run > Custom run, paste a text, then Submit
  workers:       $WORKERS on pool $POOL, at most $WORKER_LIMIT flow runs each:$WORKERS_SAID
  from here:     export PREFECT_API_URL=$PREFECT_API_URL   # then: uv run ytmaker watch ID
  $REDIS_SAID
  logs:          $RUN_DIR/ (server.log, worker*.log, setup.log)
  stop:          make down
MSG
