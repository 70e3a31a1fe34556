"""The deployments as a user runs them: a real `prefect server start`, the process work pool,
`prefect deploy --all --no-prompt` from prefect.yaml, a worker, and flow runs submitted to it.

Flow runs execute in the worker's subprocesses, so the worker carries the data dir, database and
fast script rules in its environment. Everything started here is stopped, worker first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from tests.helpers import FAST_RULES, outside_env, seed_prefect_home, unmeasured
from tests.test_batch import SHORT_EN, SHORT_ZH
from ytmaker import batch
from ytmaker.db import Repository, dispose_engines
from ytmaker.models import BatchStatus, ProjectStatus

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
RUN_TIMEOUT = 240


@dataclass
class Stack:
    api_url: str
    env: dict[str, str]
    data_dir: Path
    database_url: str
    logs: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
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


def _stop(process: subprocess.Popen | None) -> None:
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


def _cli(stack_env: dict[str, str], *args: str) -> str:
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


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


@contextlib.contextmanager
def running_stack(tmp_path: Path, **extra_env: str) -> Iterator[Stack]:
    """A server with the deployments of prefect.yaml and a worker, stopped after use (the
    `stack` fixture here and in other test modules); `extra_env` goes to the worker too."""
    port = _free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    database_url = f"sqlite:///{data_dir / 'ytmaker.db'}"
    env = outside_env()
    env.update(
        {
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "prefect" / "results"),
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PREFECT_UI_ENABLED": "false",
            "YTMAKER_APP_DIR": str(ROOT),
            "YTMAKER_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            **FAST_RULES,
            **{
                f"YTMAKER_{kind}": "local"
                for kind in (
                    "SCRIPT_PROVIDER",
                    "VOICE_PROVIDER",
                    "IMAGE_PROVIDER",
                    "AVATAR_PROVIDER",
                    "PUBLISHER",
                )
            },
            **extra_env,
        }
    )
    seed_prefect_home(tmp_path / "prefect")
    server = worker = None
    try:
        server = _start(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            unmeasured(env),
            logs / "server.log",
        )
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                    break
            assert server.poll() is None, (logs / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Prefect server did not become healthy"
            time.sleep(0.5)
        _cli(env, "work-pool", "create", "ytmaker-pool", "--type", "process")
        _cli(env, "deploy", "--all", "--no-prompt")
        worker = _start(
            [PREFECT, "worker", "start", "--pool", "ytmaker-pool", "--name", "test-worker"],
            env,
            logs / "worker.log",
        )
        yield Stack(env["PREFECT_API_URL"], env, data_dir, database_url, logs)
    except BaseException:
        for name in ("server.log", "worker.log"):
            if (logs / name).exists():
                print(f"--- {name}\n{(logs / name).read_text()[-4000:]}")
        raise
    finally:
        _stop(worker)  # a worker outlives its server badly: stop it first
        _stop(server)
        dispose_engines()


def _wait(client, flow_run_ids: list, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        runs = {i: client.read_flow_run(i) for i in flow_run_ids}
        if all(r.state and r.state.is_final() for r in runs.values()):
            return runs
        assert time.monotonic() < deadline, {i: r.state for i, r in runs.items()}
        time.sleep(1)


def _paused(client, run_id: UUID, timeout: float = RUN_TIMEOUT):
    """The run once it waits for input (the UI shows it Suspended, with a Resume button)."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(run_id)
        if run.state and run.state.is_paused():
            return run
        assert not (run.state and run.state.is_final()), run.state
        assert time.monotonic() < deadline, run.state
        time.sleep(1)


def test_deployments_run_on_a_worker(stack: Stack) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    repo = Repository(stack.database_url)
    single = repo.create_project(name="早餐店單片", content=SHORT_ZH, language="zh-TW")
    row = batch.create_batch(
        repo,
        batch.BatchPlan(
            "deploy test",
            [
                batch.NewProject("早餐店", SHORT_ZH, "zh-TW"),
                batch.NewProject("空的", "  ", "zh-TW"),
                batch.NewProject("Bubble tea", SHORT_EN, "en"),
            ],
        ),
    )
    ids = [p.id for p in batch.batch_projects(repo, row.id)]

    with (
        temporary_settings({PREFECT_API_URL: stack.api_url}),
        get_client(sync_client=True) as client,
    ):
        # the deployments prefect.yaml declares, on the work pool, with typed parameters
        deployments = {
            name: client.read_deployment_by_name(f"{name}/{name}")
            for name in ("video-generation", "batch-processing", "quota-sync")
        }
        assert {d.work_pool_name for d in deployments.values()} == {"ytmaker-pool"}
        form = deployments["video-generation"].parameter_openapi_schema
        assert form["properties"]["project_id"]["type"] == "integer"
        assert form["required"] == ["project_id"]
        assert (
            deployments["batch-processing"].parameter_openapi_schema["properties"]["batch_id"][
                "type"
            ]
            == "integer"
        )
        assert deployments["video-generation"].pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ]
        (schedule,) = deployments["quota-sync"].schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 * * * *", "Asia/Taipei")
        assert schedule.active
        assert not deployments["video-generation"].schedules

        # a single video and a batch, submitted like the UI's "Run" button does
        started = time.monotonic()
        video_run = run_deployment(
            "video-generation/video-generation", parameters={"project_id": single.id}, timeout=0
        )
        batch_run = run_deployment(
            "batch-processing/batch-processing", parameters={"batch_id": row.id}, timeout=0
        )
        runs = _wait(client, [video_run.id, batch_run.id], RUN_TIMEOUT)
        elapsed = time.monotonic() - started
        assert runs[video_run.id].state.is_completed(), runs[video_run.id].state
        assert runs[batch_run.id].state.is_completed(), runs[batch_run.id].state
        assert runs[video_run.id].name.startswith(f"video-{single.id}")
        assert runs[batch_run.id].name == f"batch-{row.id}"

        # the batch's children are linked to it, one per project
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[batch_run.id])
            )
        )
        assert sorted(c.parameters["project_id"] for c in children) == ids
        assert all(c.parent_task_run_id for c in children)
        by_project = {c.parameters["project_id"]: c for c in children}
        assert by_project[ids[1]].state.is_failed() and by_project[ids[0]].state.is_completed()
        assert f"batch:{row.id}" in by_project[ids[2]].tags

        # the hourly sync is scheduled (upcoming runs exist, on the hour)
        upcoming = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id={"any_": [deployments["quota-sync"].id]},
                state={"type": {"any_": ["SCHEDULED"]}},
            )
        )
        assert upcoming and all(
            r.expected_start_time.minute == 0 and r.expected_start_time.second == 0
            for r in upcoming
        )

    # what the worker's runs wrote: the database rows and files
    project = repo.get_project(single.id)
    assert project.status is ProjectStatus.COMPLETED and project.youtube_video_id
    assert (stack.data_dir / "projects" / str(single.id) / "output" / "video.mp4").exists()
    stored = batch.get_batch(repo, row.id)
    assert (stored.status, stored.total, stored.completed, stored.failed) == (
        BatchStatus.PARTIAL,
        3,
        2,
        1,
    )
    summary = batch.summary(repo, row.id)
    assert [r["status"] for r in summary["results"]] == ["COMPLETED", "FAILED", "COMPLETED"]
    assert "empty content" in summary["results"][1]["error"]
    assert all(summary["results"][i]["video_id"] for i in (0, 2))
    assert repo.get_project(ids[1]).error_info["code"] == "INPUT_INVALID"
    print(f"video + batch of 3 through the worker: {elapsed:.1f} s")
