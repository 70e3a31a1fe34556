"""Prefect settings for local runs, applied before Prefect is imported."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    # The CLI draws live progress bars; Prefect's per-task lines would tear them apart.
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def apply(data_dir: Path) -> None:
    """Keep Prefect's home and results under the data dir unless the user chose otherwise."""
    home = (Path(data_dir) / "prefect").resolve()
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(home / "results"))
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
