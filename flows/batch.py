"""The batch flow: each project's video flow as a linked sub-flow, a few at a time."""

from __future__ import annotations

import contextlib
from typing import Any

from prefect import flow, get_run_logger, tags, task
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows import spread
from flows.artifacts import batch_progress_create, batch_progress_update, batch_summary_artifact
from flows.hooks import instrument, project_tags
from flows.video import generate_video
from ytmaker import batch
from ytmaker.bootstrap import bootstrap
from ytmaker.config import get_settings
from ytmaker.models import ProjectStatus
from ytmaker.review import PERSON_DECIDES

MAX_CONCURRENCY = 16  # the setting's upper bound; the flow keeps to YTMAKER_BATCH_CONCURRENCY


@task(name="run-project", task_run_name="project-{project_id}")
def run_project(batch_id: int, project_id: int) -> dict[str, Any]:
    """One project's video flow, started from a task so that Prefect links it to the batch run
    (a plain thread would make it a top-level run): on any worker of the pool when the batch
    runs there (flows/spread.py), else in this process. Fails when the video fails in-process;
    either way the batch reads the outcome from the project."""
    if spread.on_pool():
        return spread.run_on_pool(batch_id, project_id, project_tags(project_id))
    with tags(*project_tags(project_id)):
        return instrument(generate_video)(project_id)


def _settle_after_crash(flow: Any, flow_run: Any, state: Any) -> None:
    """A batch run that failed or crashed must not stay RUNNING."""
    batch_id = flow_run.parameters.get("batch_id")
    if batch_id is not None:
        with contextlib.suppress(Exception):  # nothing more to do
            batch.finish(bootstrap().repo, int(batch_id))


@flow(
    name="batch-processing",
    flow_run_name="batch-{batch_id}",
    task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY),  # type: ignore[arg-type]  # see flows/video.py
    on_failure=[_settle_after_crash],
    on_crashed=[_settle_after_crash],
)
def batch_processing(batch_id: int) -> dict[str, Any] | State:
    """Make every unfinished video of a batch; one failure does not stop the others (the run
    fails only when no project completed).

    Returns {"status", "batch_id", "total_projects", "completed", "failed", "results"}.
    """
    logger = get_run_logger()
    settings = get_settings()
    ctx = bootstrap(settings)
    row, todo, done = batch.start(ctx.repo, batch_id)
    limit = settings.batch_concurrency
    names = {p.id: p.name for p in [*todo, *done]}
    logger.info(
        "Batch %s (%s): %d projects to make, %d already done, %d at a time",
        batch_id,
        row.name,
        len(todo),
        len(done),
        limit,
    )
    artifact = batch_progress_create(batch_id, row.total)
    batch_progress_update(artifact, len(done), row.total, len(done), 0)
    pending = list(todo)
    running: dict[PrefectFuture, int] = {}
    finished = len(done)
    while pending or running:
        while pending and len(running) < limit:
            project = pending.pop(0)
            running[run_project.submit(batch_id, project.id)] = project.id
        future = next(as_completed(list(running)))
        project_id = running.pop(future)
        future.wait()
        project = ctx.repo.get_project(project_id)
        ok = project.status is ProjectStatus.COMPLETED
        waiting = project.status in PERSON_DECIDES  # made; a person decides the rest
        row = (
            batch.get_batch(ctx.repo, batch_id)
            if waiting
            else batch.record(ctx.repo, batch_id, ok=ok)
        )
        finished += 1
        outcome = batch.outcome(ctx.repo, project)
        if ok or waiting:
            logger.info(
                "Project %s %s (%d/%d)", project_id, project.status.value, finished, row.total
            )
        else:
            logger.warning(
                "Project %s failed (%d/%d): %s", project_id, finished, row.total, outcome["error"]
            )
        batch_progress_update(artifact, finished, row.total, row.completed, row.failed)
    batch.finish(ctx.repo, batch_id)
    result = batch.summary(ctx.repo, batch_id)
    batch_summary_artifact(result, names)
    logger.info(
        "Batch %s %s: %d completed, %d failed",
        batch_id,
        result["status"],
        result["completed"],
        result["failed"],
    )
    if result["status"] == "FAILED":  # nothing came out: the run is red in the UI, not green
        return Failed(
            message=f"No project of batch {batch_id} completed ({result['failed']} failed); "
            "see the batch-summary artifact or `ytmaker batch status`."
        )  # no data: a Failed state's data must be an exception (Prefect raises TypeError)
    return result
