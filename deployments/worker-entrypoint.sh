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

prefect work-pool inspect "$POOL" >/dev/null 2>&1 || prefect work-pool create "$POOL" --type process
prefect deploy --all --no-prompt
python deployments/automations.py deployments/zombie.yaml

export PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-30}"
exec prefect worker start --pool "$POOL" --name "ytmaker-worker-$(hostname)"
