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
"$PYTHON" deployments/automations.py deployments/zombie.yaml

# 3. the worker: its flow runs inherit this environment (DATABASE_URL, REDIS_URL, YTMAKER_*)
if alive "$RUN_DIR/worker.pid"; then
  echo "Worker already running (pid $(cat "$RUN_DIR/worker.pid"))"
else
  PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}" \
    launch "$RUN_DIR/worker.pid" "$RUN_DIR/worker.log" \
    "$PREFECT" worker start --pool "$POOL" --name "ytmaker-worker"
  sleep 2
  alive "$RUN_DIR/worker.pid" || { tail -n 30 "$RUN_DIR/worker.log" >&2; exit 1; }
fi

cat <<MSG

Prefect UI: $UI
  from a text: Deployments > new-video > Run (a form: name, content, language, ...),
               Deployments > new-batch > Run (a batch as YAML, or a list of videos)
  again:       video-generation (project_id), batch-processing (batch_id)
  scheduled:   quota-sync (hourly, Asia/Taipei)
  run one:     PREFECT_API_URL=$PREFECT_API_URL .venv/bin/prefect deployment run \\
                 'video-generation/video-generation' --param project_id=1
  logs:        $RUN_DIR/server.log, $RUN_DIR/worker.log
  stop:        make down
MSG
