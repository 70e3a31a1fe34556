#!/usr/bin/env bash
# The worker container (docker-compose.yml): wait for the Prefect server, make sure the work
# pool, deployments and zombie-run automation exist, then run the worker in the foreground.
set -euo pipefail
cd "${YTMAKER_APP_DIR:-/app}"
POOL="${YTMAKER_WORK_POOL:-ytmaker-pool}"

echo "Waiting for the Prefect server at $PREFECT_API_URL..."
for _ in $(seq 1 90); do
  curl -fsS -m 2 "$PREFECT_API_URL/health" >/dev/null 2>&1 && break
  sleep 2
done
curl -fsS -m 2 "$PREFECT_API_URL/health" >/dev/null

# Several replicas (`docker compose up --scale worker=3`) start at once: the set-up below is
# idempotent, and one replica at a time does it (a lock file on the shared data volume).
mkdir -p "${YTMAKER_DATA_DIR:-/data}/run"
exec 9>"${YTMAKER_DATA_DIR:-/data}/run/setup.lock"
flock 9
prefect work-pool inspect "$POOL" >/dev/null 2>&1 || prefect work-pool create "$POOL" --type process
prefect deploy --all --no-prompt
python deployments/automations.py deployments/zombie.yaml deployments/reschedule.yaml \
  deployments/pending.yaml deployments/worker-lost.yaml
# task results in Redis, with a TTL (PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK names this block)
python deployments/blocks.py "$REDIS_URL"
flock -u 9
exec 9>&-

export PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}"
# Each replica: its own Prefect home and temp dir (the data volume is shared).
export PREFECT_HOME="/tmp/prefect-home" TMPDIR="/tmp"
mkdir -p "$PREFECT_HOME"
exec prefect worker start --pool "$POOL" --name "ytmaker-worker-$(hostname)" \
  --limit "${YTMAKER_WORKER_LIMIT:-2}"
