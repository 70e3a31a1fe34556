"""`new-video`: a video from the Prefect UI's Run form alone: the form (ytmaker.forms.NewVideo)
becomes a project, checked by the same rules as `ytmaker project create`, then the
`video-generation` flow makes it as a linked sub-flow.

The project is made once per flow run (ytmaker.per_run): a retried run, or one rescheduled after
a crash, finds the project its first attempt made and carries on with it.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, tags
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.states import Failed, State

from flows import review_gate
from flows.artifacts import ProgressWatcher, keep
from flows.hooks import project_tags, video_run_name_for
from flows.video import generate_video
from ytmaker import review
from ytmaker.bootstrap import bootstrap
from ytmaker.errors import InputError
from ytmaker.forms import NewVideo, video_fields
from ytmaker.models import Project
from ytmaker.per_run import made_by_run, project_for_run
from ytmaker.reports import (
    follow_lines,
    intake_description,
    intake_markdown,
    slug,
    summary_markdown,
)
from ytmaker.summary import project_summary

log = logging.getLogger(__name__)


def run_name(prefix: str, form_name: str, row_id: int | None = None) -> str:
    """`new-video-7-早餐店`: what the run made, readable in the UI's run list."""
    parts = (prefix, None if row_id is None else str(row_id), slug(form_name))
    return "-".join(part for part in parts if part)


def form_field(parameter: str, field: str) -> str:
    """A field of the run's form (a model once validated, a dict before), or ''."""
    form = flow_run.parameters.get(parameter)
    value = form.get(field) if isinstance(form, dict) else getattr(form, field, None)
    return str(value or "")


def _form_run_name() -> str:
    """Prefect's `flow_run_name` before the project exists: `new-video-{slug of the name}`."""
    return run_name("new-video", form_field("video", "name"))


def rename_run(name: str) -> None:
    """Once the row exists, the run carries its id; a failure here only costs the name."""
    try:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(UUID(flow_run.get_id()), name=name)
    except Exception:  # noqa: BLE001
        log.warning("Could not rename the flow run to %s", name, exc_info=True)


def intake_artifact(project: Project, created: bool) -> None:
    """The project id in the run's artifacts at once, so the CLI can follow the run."""
    _artifact(project.id, intake_markdown(project, created), intake_description(project))


def _artifact(project_id: int, markdown: str, description: str) -> None:
    """One card: the intake, then the summary in its place."""
    keep(f"new-video-{project_id}", "markdown", markdown, description)


@flow(
    name="new-video",
    flow_run_name=_form_run_name,
    description="Make a narrated video from a pasted text: creates the project, then runs "
    "video-generation for it.",
)
def new_video(video: NewVideo) -> dict[str, Any] | State:
    """Create the project from the form (once per flow run) and make its video.

    Returns the project's summary (`project_id`, `status`, paths, `video_url`, ...).
    """
    logger = get_run_logger()
    ctx = bootstrap()
    run_id = str(flow_run.get_id())
    # An attempt resumed from its review (or retried) carries on with its project: the form was
    # checked when it was made, and its publish time may have passed while a person looked.
    project, created = made_by_run(ctx.repo, run_id), False
    if project is None:
        try:  # before anything is written or paid for
            fields = video_fields(video, settings=ctx.settings)
        except InputError as exc:  # the user's input: one line, no traceback
            logger.error("%s", exc.message)
            return Failed(message=exc.message)
        project, created = project_for_run(ctx.repo, run_id, fields)
    logger.info(
        "Project %s (%s) %s; follow it from a terminal: ytmaker watch %s",
        project.id,
        project.name,
        "created" if created else "found, made by an earlier attempt of this run",
        project.id,
    )
    rename_run(run_name("new-video", project.name, project.id))
    intake_artifact(project, created)
    review_gate.collect(project.id)  # resumed from its review: the decision before the video
    # the video's stages on this run's own page too (the sub-flow has the same bar)
    progress = ProgressWatcher(
        UUID(str(flow_run.get_id())),
        project.id,
        key=f"new-video-{project.id}-progress",
        language=project.language,
    ).start()
    with tags(*project_tags(project.id)):
        state = generate_video(project.id, return_state=True)
        if review_gate.script_pending(project.id):
            # its script was read and approved: the first video run stopped after the script
            # (Prefect hands it back as it was), so a second one makes the video
            after = f"{video_run_name_for(project.id)}-after-script-review"
            state = generate_video.with_options(flow_run_name=after)(project.id, return_state=True)
        if review_gate.upload_pending(project.id):
            # resumed and approved: Prefect hands back the finished video run from before the
            # pause without running it again, so a new one does what is left (the upload),
            # named so that no two runs share a name
            after = f"{video_run_name_for(project.id)}-after-review"
            state = generate_video.with_options(flow_run_name=after)(project.id, return_state=True)
    waiting = ctx.repo.get_project(project.id).status in review.WAITING
    progress.finish_with(
        ctx.bus.latest(project.id), state.is_completed(), state.message, waiting=waiting
    )
    if state.is_completed():  # the video waits for a person: this run shows the Resume form
        review_gate.wait_if_held(ctx, project.id)
    result = project_summary(ctx, project.id)
    _artifact(
        project.id,
        summary_markdown(result, state_name=state.name, state_message=state.message)
        + f"\n{follow_lines(project.id)}\n",
        f"Project {project.id}: {result['status']}",
    )
    if not state.is_completed():
        return Failed(  # no data: a Failed state's data must be an exception
            message=f"Project {project.id} ({project.name}) did not complete: "
            f"{state.message or state.name}"
        )
    return result
