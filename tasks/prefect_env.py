"""Prefect settings for local runs, applied before Prefect is imported."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import yaml

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


SERVER_LOGGERS = ("prefect.server", "uvicorn", "fastapi")


def apply(data_dir: Path) -> None:
    """Keep Prefect's home and results under the data dir unless the user chose otherwise."""
    home = (Path(data_dir) / "prefect").resolve()
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(home / "results"))
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    chosen = ("PREFECT_API_URL", "PREFECT_LOGGING_SETTINGS_PATH")
    if not any(os.environ.get(name) for name in chosen):  # an in-process API of our own
        os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(_server_logs_to_file(home))


def _server_logs_to_file(home: Path) -> Path:
    """Prefect's logging settings with the in-process API server's records in
    `PREFECT_HOME/server.log`: that server shares the command's terminal, and stopping it at
    the end of a run printed a traceback (`Error flushing 1 events`) under a command's own
    one-line error."""
    found = importlib.util.find_spec("prefect")  # without importing it: too early for that
    assert found is not None and found.submodule_search_locations
    source = Path(next(iter(found.submodule_search_locations))) / "logging" / "logging.yml"
    config = yaml.safe_load(source.read_text("utf-8"))
    config["handlers"]["server_file"] = {
        "level": 0,
        "class": "logging.FileHandler",
        "formatter": "standard",
        "filename": "${PREFECT_HOME}/server.log",
        "delay": True,
    }
    for name in SERVER_LOGGERS:
        logger = config["loggers"].setdefault(name, {"level": "${PREFECT_SERVER_LOGGING_LEVEL}"})
        logger.update(handlers=["server_file"], propagate=False)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "logging.yml"
    written = home / f".logging.yml.{os.getpid()}"  # two commands starting at once
    written.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    written.replace(target)
    return target
