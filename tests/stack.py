"""`make up`'s kind of stack for tests: one real `prefect server start` per test process, with
the work pool and `prefect deploy --all --no-prompt` from prefect.yaml, shared by every stack
test of that process (the `prefect_server` fixture of tests/conftest.py, started when a test
first asks for it). Each test gets its own work queue in the pool and its own worker polling
only that queue, carrying the test's data dir, database and settings: runs it submits to its
queue (and the batch runs' children, which follow their parent's queue) run nowhere else.

Everything a test starts is stopped, worker first; the server is stopped with the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers import FAST_RULES, outside_env, seed_prefect_home, unmeasured
from ytmaker.db import dispose_engines

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "ytmaker-pool"
RUN_TIMEOUT = 240
LOCAL_PROVIDERS = {"YTMAKER_PUBLISHER": "local"} | {
    f"YTMAKER_{kind}_PROVIDER": "local" for kind in ("SCRIPT", "VOICE", "IMAGE", "AVATAR")
}


@dataclass
class Server:
    api_url: str
    logs: Path


@dataclass
class Stack:
    api_url: str
    env: dict[str, str]
    data_dir: Path
    database_url: str
    logs: Path
    queue: str  # this test's work queue in the pool: submit its runs here


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def cli(stack_env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PREFECT, *args],
        env=stack_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_ok(env: dict[str, str], *command: str) -> None:
    """`command` in the checkout, which must succeed (its output in the failure if not)."""
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def _base_env(home: Path, api_url: str) -> dict[str, str]:
    env = outside_env()
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        YTMAKER_APP_DIR=str(ROOT),
    )
    return env


def healthy(server: subprocess.Popen, api_url: str, log: Path, timeout: float = 120) -> None:
    """Wait until the server at `api_url` answers its health check; fail with its log's tail
    if it exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        assert server.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the Prefect server did not become healthy"
        time.sleep(0.5)


@contextlib.contextmanager
def running_server(root: Path) -> Iterator[Server]:
    """A Prefect server with the pool, the deployments of prefect.yaml and the zombie-run
    automation, as `make up` makes them; stopped on leaving."""
    root.mkdir(parents=True, exist_ok=True)
    log, port = root / "server.log", free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = _base_env(seed_prefect_home(root / "prefect"), api_url)
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = start(command, unmeasured(env), log)
    try:
        healthy(server, api_url, log)
        cli(env, "work-pool", "create", POOL, "--type", "process")
        cli(env, "deploy", "--all", "--no-prompt")
        run_ok(env, sys.executable, "deployments/automations.py", "deployments/zombie.yaml")
        yield Server(api_url, log)
    except BaseException:
        print(f"--- server.log\n{log.read_text()[-4000:]}")
        raise
    finally:
        stop(server)


@contextlib.contextmanager
def work_queue(api_url: str) -> Iterator[str]:
    """A work queue of its own in the pool, deleted after use (its runs stay, unpicked)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    queues = f"{api_url}/work_pools/{POOL}/queues"
    httpx.post(queues, json={"name": name}, timeout=30).raise_for_status()
    try:
        yield name
    finally:
        httpx.delete(f"{queues}/{name}", timeout=30)


@contextlib.contextmanager
def running_stack(server: Server, tmp_path: Path, **extra_env: str) -> Iterator[Stack]:
    """A worker of its own on a queue of its own of the shared server, with this test's data dir
    and database (a SQLite file), fast script rules, local providers and `extra_env`."""
    data_dir, logs = tmp_path / "data", tmp_path / "logs"
    data_dir.mkdir()
    logs.mkdir()
    database_url = f"sqlite:///{data_dir / 'ytmaker.db'}"
    env = _base_env(seed_prefect_home(tmp_path / "prefect"), server.api_url)
    env.update(
        PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "prefect" / "results"),
        PREFECT_RESULTS_PERSIST_BY_DEFAULT="true",
        PREFECT_WORKER_QUERY_SECONDS="2",
        YTMAKER_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
    )
    env.update({**FAST_RULES, **LOCAL_PROVIDERS, **extra_env})
    worker = None
    with work_queue(server.api_url) as queue:
        try:
            worker = start(
                [PREFECT, "worker", "start", "--pool", POOL, "--work-queue", queue,
                 "--name", f"worker-{queue}"],
                env,
                logs / "worker.log",
            )  # fmt: skip
            yield Stack(server.api_url, env, data_dir, database_url, logs, queue)
        except BaseException:
            for log in (logs / "worker.log", server.logs):
                if log.exists():
                    print(f"--- {log.name}\n{log.read_text()[-4000:]}")
            raise
        finally:
            stop(worker)
            dispose_engines()


def wait(client, flow_run_ids: list, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        runs = {i: client.read_flow_run(i) for i in flow_run_ids}
        if all(r.state and r.state.is_final() for r in runs.values()):
            return runs
        assert time.monotonic() < deadline, {i: r.state for i, r in runs.items()}
        time.sleep(1)


def paused(client, run_id: uuid.UUID, timeout: float = RUN_TIMEOUT):
    """The run once it waits for input (the UI shows it Suspended, with a Resume button)."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(run_id)
        if run.state and run.state.is_paused():
            return run
        assert not (run.state and run.state.is_final()), run.state
        assert time.monotonic() < deadline, run.state
        time.sleep(1)
