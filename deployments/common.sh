# Shared by up.sh and down.sh: where the local stack keeps its state (all under the data dir).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -f .env ]]; then  # the same settings the app reads (KEY=VALUE lines)
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi
DATA_DIR="${YTMAKER_DATA_DIR:-data}"
[[ "$DATA_DIR" = /* ]] || DATA_DIR="$ROOT/$DATA_DIR"
RUN_DIR="$DATA_DIR/run"
HOST="${PREFECT_SERVER_HOST:-127.0.0.1}"
PORT="${PREFECT_SERVER_PORT:-4200}"
POOL="${YTMAKER_WORK_POOL:-ytmaker-pool}"
PREFECT="${PREFECT_BIN:-$ROOT/.venv/bin/prefect}"
PYTHON="${PYTHON_BIN:-$ROOT/.venv/bin/python}"
export PREFECT_HOME="${PREFECT_HOME:-$DATA_DIR/prefect-server}"
export PREFECT_API_URL="http://$HOST:$PORT/api"
export PREFECT_SERVER_ANALYTICS_ENABLED="${PREFECT_SERVER_ANALYTICS_ENABLED:-false}"
export PREFECT_LOCAL_STORAGE_PATH="${PREFECT_LOCAL_STORAGE_PATH:-$PREFECT_HOME/results}"
export PREFECT_RESULTS_PERSIST_BY_DEFAULT="${PREFECT_RESULTS_PERSIST_BY_DEFAULT:-true}"
# Batched task-run writes keep a SQLite server free for image slots (see tasks/prefect_env.py).
export PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE="${PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE:-20}"
export PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL="${PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL:-1}"

# Slot leases in files under PREFECT_HOME: a restarted server still knows which image slots are
# held, and its repossessor gives back those of runs that died (tasks/leases.py).
export PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE="${PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE:-prefect.server.concurrency.lease_storage.filesystem}"
export PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS="${PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS:-5}"

# alive PIDFILE: true when the pid file names a live process of ours (a prefect command)
alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q prefect
}

# launch PIDFILE LOGFILE COMMAND...: start COMMAND in its own session (so `make down` can stop
# its whole process group) with SIGINT at its default: a background job of a shell script
# ignores SIGINT, and Prefect's worker turns SIGTERM into SIGINT to shut down.
launch() {
  "$PYTHON" - "$@" <<'PY'
import signal, subprocess, sys

pidfile, log, *command = sys.argv[1:]
with open(log, "ab") as out:
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
with open(pidfile, "w") as handle:
    handle.write(f"{process.pid}\n")
PY
}
