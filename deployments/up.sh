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

# 0. Redis for results, locks and slot leases: REDIS_URL, else 127.0.0.1:6379 if it answers
SHARED_REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if "$PYTHON" -c "import redis, sys; redis.Redis.from_url(sys.argv[1], socket_timeout=2).ping()" \
  "$SHARED_REDIS" 2>/dev/null; then
  scale_out_env "$SHARED_REDIS"
  echo "Results, locks and slot leases in Redis ($("$PYTHON" -c 'import sys; from ytmaker.redis_conn import describe; import redis; print(describe(redis.Redis.from_url(sys.argv[1])))' "$SHARED_REDIS"))"
else
  echo "No Redis at $SHARED_REDIS: results stay on this machine's disk (one machine only)"
fi

# 1. the server
if alive "$RUN_DIR/server.pid"; then
  echo "Prefect server already running (pid $(cat "$RUN_DIR/server.pid"))"
elif health; then
  echo "Something else already answers on $UI; stop it or set PREFECT_SERVER_PORT." >&2
  exit 1
else
  db="SQLite in $PREFECT_HOME"
  if [[ -n "${PREFECT_API_DATABASE_CONNECTION_URL:-${PREFECT_SERVER_DATABASE_CONNECTION_URL:-}}" ]]; then
    db="PostgreSQL (PREFECT_*_DATABASE_CONNECTION_URL)"
  fi
  echo "Starting the Prefect server on $UI ($db)..."
  launch "$RUN_DIR/server.pid" "$RUN_DIR/server.log" \
    "$PREFECT" server start --host "$HOST" --port "$PORT"
fi
for _ in $(seq 1 120); do
  health && break
  if ! alive "$RUN_DIR/server.pid"; then
    echo "The Prefect server stopped; the end of $RUN_DIR/server.log:" >&2
    tail -n 30 "$RUN_DIR/server.log" >&2
    rm -f "$RUN_DIR/server.pid"
    exit 1
  fi
  sleep 1
done
health || { echo "The Prefect server did not answer within 120 s ($RUN_DIR/server.log)" >&2; exit 1; }
echo "Prefect server healthy"

# 2. the work pool, the deployments, the zombie-run automation
if ! "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1; then
  "$PREFECT" work-pool create "$POOL" --type process
fi
YTMAKER_APP_DIR="$ROOT" "$PREFECT" deploy --all --no-prompt
"$PYTHON" deployments/automations.py "${AUTOMATIONS[@]}"
if [[ -n "${PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK:-}" ]]; then
  "$PYTHON" deployments/blocks.py "$REDIS_URL"
fi

# 3. the workers (WORKERS=3 make up): each in its own process group with its own Prefect home
# and temp dir; their flow runs inherit this environment (DATABASE_URL, REDIS_URL, YTMAKER_*)
# and share the data dir.
WORKERS="${WORKERS:-1}"
for i in $(seq 1 "$WORKERS"); do
  name="worker-$i"
  [[ "$i" == 1 ]] && name="worker"  # `make down` of an older checkout knows this one
  if alive "$RUN_DIR/$name.pid"; then
    echo "Worker $i already running (pid $(cat "$RUN_DIR/$name.pid"))"
    continue
  fi
  home="$RUN_DIR/$name"
  mkdir -p "$home/prefect" "$home/tmp"
  PREFECT_HOME="$home/prefect" TMPDIR="$home/tmp" \
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}" \
    launch "$RUN_DIR/$name.pid" "$RUN_DIR/$name.log" \
    "$PREFECT" worker start --pool "$POOL" --name "ytmaker-$name" --limit "$WORKER_LIMIT"
done
sleep 2
for pidfile in "$RUN_DIR"/worker*.pid; do
  alive "$pidfile" || { tail -n 30 "${pidfile%.pid}.log" >&2; exit 1; }
done

cat <<MSG

Prefect UI: $UI
  from a text: Deployments > new-video > Run (a form: name, content, language, ...),
               Deployments > new-batch > Run (a batch as YAML, or a list of videos)
  again:       video-generation (project_id), batch-processing (batch_id)
  scheduled:   quota-sync (hourly, Asia/Taipei)
  run one:     PREFECT_API_URL=$PREFECT_API_URL .venv/bin/prefect deployment run \\
                 'video-generation/video-generation' --param project_id=1
  workers:     $WORKERS (at most $WORKER_LIMIT flow runs each; WORKERS=3 make up for three)
  logs:        $RUN_DIR/server.log, $RUN_DIR/worker*.log
  stop:        make down
MSG
