"""The five-stage video flow: script → assets → render → thumbnail → upload."""

from __future__ import annotations

from typing import Any

from prefect import Task, flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows import review_gate, run_log
from flows.hooks import instrument
from tasks.assets import generate_assets
from tasks.limits import ensure_limits, give_back_expired
from tasks.locks import exclusive
from tasks.policy import configured
from tasks.render import render_video
from tasks.script import generate_script
from tasks.thumbnail import generate_thumbnail
from tasks.upload import upload_video
from ytmaker import summary
from ytmaker.bootstrap import bootstrap
from ytmaker.config import get_settings

run_log.install()  # a user's input error is one line in the run's log, not a traceback


def _record_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Covers what task-level bookkeeping cannot: crashes and failures outside a stage."""
    project_id = flow_run.parameters.get("project_id")
    if project_id is not None:
        summary.mark_failed_if_running(bootstrap(), int(project_id), state.message or "")


@flow(
    name="video-generation",
    flow_run_name="video-{project_id}",
    # Prefect types task_runner as TaskRunner[PrefectFuture], which no concrete runner matches
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # type: ignore[arg-type]
    on_failure=[_record_failure],
    on_crashed=[_record_failure],
)
def generate_video(project_id: int) -> dict[str, Any]:
    """Turn one project's text into a published, narrated video."""
    settings = get_settings()
    review_gate.collect(project_id)  # a run resumed from its review: the decision comes first
    if review_gate.rejected(project_id):
        return summary.project_summary(bootstrap(settings), project_id)
    ensure_limits(settings)
    with exclusive(project_id, "script"):  # a racing run of the project reuses the script
        plan = configured(generate_script, settings)(project_id)
    if review_gate.script_gate(project_id) != "go":  # a person reads the script first
        return summary.project_summary(bootstrap(settings), project_id)
    generate_assets(project_id, plan)
    stages: tuple[Task[[int], Any], ...] = (render_video, generate_thumbnail)
    for stage in stages:
        with exclusive(project_id, stage.name):
            # a Task[..., Any] matches the async overload of Task.__call__: both stages are sync
            configured(stage, settings)(project_id)  # type: ignore[unused-coroutine]
    give_back_expired()  # a dead run's slots that expired while this one rendered
    if review_gate.gate(project_id) == "upload":  # or it waits for a person (flows/review_gate)
        with exclusive(project_id, "upload"):  # the racer then finds the video_id recorded
            configured(upload_video, settings)(project_id)
    return summary.project_summary(bootstrap(settings), project_id)


generate_video = instrument(generate_video)
