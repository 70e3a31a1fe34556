"""The deployments as a user runs them: a real `prefect server start`, the process work pool,
`prefect deploy --all --no-prompt` from prefect.yaml, a worker, and flow runs submitted to it
(tests/stack.py: the server is the test process's shared one, the worker and its queue this
test's own).

Flow runs execute in the worker's subprocesses, so the worker carries the data dir, database and
fast script rules in its environment.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.stack import POOL, ROOT, RUN_TIMEOUT, Server, Stack, running_stack, wait
from tests.test_batch import SHORT_EN, SHORT_ZH
from ytmaker import batch
from ytmaker.db import Repository
from ytmaker.models import BatchStatus, ProjectStatus

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


def _heartbeats(api_url: str, run) -> list[float]:
    """Seconds since the run started of each of its heartbeats, and of its end, once the
    server has stored the run's final event (events are stored a few seconds late)."""
    resource = {"id": [f"prefect.flow-run.{run.id}"]}
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.post(
            f"{api_url}/events/filter",
            json={"filter": {"resource": resource}, "limit": 50},
            timeout=30,
        )
        found = answer.raise_for_status().json()["events"]
        names = {e["event"] for e in found}
        if "prefect.flow-run.Completed" in names or time.monotonic() > deadline:
            break
        time.sleep(1)
    started = run.start_time.timestamp()
    beats = [
        datetime.fromisoformat(e["occurred"]).timestamp() - started
        for e in found
        if e["event"] == "prefect.flow-run.heartbeat"
    ]
    return [0.0, *sorted(beats), run.end_time.timestamp() - started]


@pytest.fixture
def stack(prefect_server: Server, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(prefect_server, tmp_path) as running:
        yield running


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
        assert {d.work_pool_name for d in deployments.values()} == {POOL}
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
            "video-generation/video-generation",
            parameters={"project_id": single.id},
            timeout=0,
            work_queue_name=stack.queue,
        )
        batch_run = run_deployment(
            "batch-processing/batch-processing",
            parameters={"batch_id": row.id},
            timeout=0,
            work_queue_name=stack.queue,
        )
        runs = wait(client, [video_run.id, batch_run.id], RUN_TIMEOUT)
        elapsed = time.monotonic() - started
        assert runs[video_run.id].state.is_completed(), runs[video_run.id].state
        assert runs[batch_run.id].state.is_completed(), runs[batch_run.id].state
        assert runs[video_run.id].name.startswith(f"video-{single.id}")
        assert runs[batch_run.id].name == f"batch-{row.id}"
        # it beat all along, from the deployment's own settings (this worker sets none): never
        # silent for the zombie automation's 90 s, as with Prefect's default of 180 s
        beats = _heartbeats(stack.api_url, runs[batch_run.id])
        assert max(b - a for a, b in itertools.pairwise(beats)) <= 45, beats

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
        assert {c.work_queue_name for c in children} == {stack.queue}  # the batch run's queue

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
