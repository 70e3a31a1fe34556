"""Prefect settings for local runs, applied before Prefect is imported."""

from __future__ import annotations

import os
from pathlib import Path

FILE_LEASES = "prefect.server.concurrency.lease_storage.filesystem"
DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    # The CLI draws live progress bars; Prefect's per-task lines would tear them apart.
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # On SQLite the server's task-run recorder wrote each task event in its own transaction,
    # holding the database while a task asked for its image slot (503, then the client's 2 s
    # back-off): batched writes took bench/fanout.py from 3.2x to 1.2-1.6x of ideal. Task runs
    # show up in the UI at most a second later.
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "20",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    # Slot leases in files under PREFECT_HOME, not in the API process's memory: a hard kill
    # of `ytmaker generate` must not take the leases of its image slots with it
    # (tasks/leases.py gives expired ones back).
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": FILE_LEASES,
}


def apply(data_dir: Path) -> None:
    """Keep Prefect's home and results under the data dir unless the user chose otherwise."""
    home = (Path(data_dir) / "prefect").resolve()
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(home / "results"))
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
