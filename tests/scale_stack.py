"""The production shape on one machine, for the scale-out test and bench/scale.py: a Prefect
server on the local PostgreSQL with its slot leases in Redis, a private Redis (results, locks,
leases, progress), `prefect deploy --all`, the automations, the results block, and N workers of
`ytmaker-pool`, each in its own PID namespace (`unshare --pid`), so that killing one is a machine
dying: its flow-run processes go with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import FAST_RULES, PG_URL, outside_env, unmeasured
from tests.stack import cli, free_port, healthy, run_ok, start, stop

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
AUTOMATIONS = [
    "deployments/zombie.yaml",
    "deployments/reschedule.yaml",
    "deployments/pending.yaml",
    "deployments/worker-lost.yaml",
]


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path

    def descendants(self) -> list[int]:
        """Every process of this worker's namespace (host pids)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def flow_runs(self) -> set[str]:
        """Ids of the flow runs whose processes live on this worker."""
        runs = set()
        for pid in self.descendants():
            with contextlib.suppress(OSError):
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                for item in environ:
                    if item.startswith(b"PREFECT__FLOW_RUN_ID="):
                        runs.add(item.split(b"=", 1)[1].decode())
        return runs

    def kill(self) -> None:
        """The machine dies: SIGKILL its namespace's init (unshare --kill-child takes the rest)."""
        pids = self.descendants()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class ScaleStack:
    api_url: str
    env: dict[str, str]
    data_dir: Path
    database_url: str
    redis_url: str
    logs: Path
    workers: list[Worker] = field(default_factory=list)


def _redis(port: int, log: Path) -> subprocess.Popen:
    server = start(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
        ],
        dict(os.environ),
        log,
    )
    deadline = time.monotonic() + 20
    import redis

    while True:
        with contextlib.suppress(redis.RedisError):
            if redis.Redis(port=port).ping():
                return server
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@contextlib.contextmanager
def databases() -> Iterator[tuple[str, str]]:
    """Two throwaway PostgreSQL databases: Prefect's (asyncpg URL) and the app's."""
    import sqlalchemy

    name = f"h15_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    base = PG_URL.rsplit("/", 1)[0]
    try:
        with admin.connect() as conn:
            for suffix in ("prefect", "app"):
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}_{suffix}"'))
        prefect = base.replace("postgresql+psycopg", "postgresql+asyncpg") + f"/{name}_prefect"
        yield prefect, f"{base}/{name}_app"
    finally:
        with admin.connect() as conn:
            for suffix in ("prefect", "app"):
                conn.execute(
                    sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}_{suffix}" WITH (FORCE)')
                )
        admin.dispose()


def base_env(tmp_path: Path, port: int, redis_url: str, prefect_db: str, app_db: str) -> dict:
    env = outside_env()
    env.update(
        {
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db,
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
            "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "5",
            "PREFECT_REDIS_MESSAGING_URL": redis_url,
            "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": "redis-database/ytmaker-results",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "YTMAKER_APP_DIR": str(ROOT),
            "YTMAKER_DATA_DIR": str(tmp_path / "data"),
            "YTMAKER_MACHINE_DIR": str(tmp_path / "machine"),
            "DATABASE_URL": app_db,
            "REDIS_URL": redis_url,
            "YTMAKER_RETRY_DELAYS": "0.2,0.5,1",
            "YTMAKER_RETRY_JITTER": "0",
            **FAST_RULES,
        }
    )
    return env


def start_worker(stack: ScaleStack, index: int, limit: int = 2) -> Worker:
    name = f"w{index}"
    home = stack.logs.parent / name
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    env = {**stack.env, "PREFECT_HOME": str(home / "prefect"), "TMPDIR": str(home / "tmp")}
    log = stack.logs / f"{name}.log"
    command = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", PREFECT]
    command += ["worker", "start", "--pool", "ytmaker-pool", "--name", name, "--limit", str(limit)]
    worker = Worker(name, start(command, env, log), log)
    stack.workers.append(worker)
    return worker


@contextlib.contextmanager
def scale_stack(tmp_path: Path, workers: int, extra: dict[str, str]) -> Iterator[ScaleStack]:
    logs = tmp_path / "logs"
    logs.mkdir(parents=True)
    (tmp_path / "data").mkdir()
    port, redis_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis_server = server = None
    stack = None
    with databases() as (prefect_db, app_db):
        try:
            redis_server = _redis(redis_port, logs / "redis.log")
            env = {**base_env(tmp_path, port, redis_url, prefect_db, app_db), **extra}
            server = start(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                unmeasured(env),
                logs / "server.log",
            )
            healthy(server, env["PREFECT_API_URL"], logs / "server.log", timeout=180)
            cli(env, "work-pool", "create", "ytmaker-pool", "--type", "process")
            cli(env, "deploy", "--all", "--no-prompt")
            run_ok(env, sys.executable, "deployments/blocks.py", redis_url)
            run_ok(env, sys.executable, "deployments/automations.py", *AUTOMATIONS)
            stack = ScaleStack(
                env["PREFECT_API_URL"], env, tmp_path / "data", app_db, redis_url, logs
            )
            for index in range(1, workers + 1):
                start_worker(stack, index)
            yield stack
        except BaseException:
            for log in sorted(logs.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
            raise
        finally:
            for worker in stack.workers if stack else []:
                stop(worker.process)
            stop(server)
            stop(redis_server)
            from ytmaker.db import dispose_engines

            dispose_engines()
