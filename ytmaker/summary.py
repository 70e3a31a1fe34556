"""What a finished (or failed) project amounts to, for the CLI, flows and artifacts."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from ytmaker import credits, formats
from ytmaker.attempt import retrying_text
from ytmaker.bookkeeping import fail_project, project_state
from ytmaker.context import Context
from ytmaker.errors import YTMakerError
from ytmaker.layout import piece_paths
from ytmaker.models import Project, ProjectStatus
from ytmaker.providers import registry, voice_choice
from ytmaker.review import PERSON_DECIDES, approved_title, replaced_images
from ytmaker.script import Script
from ytmaker.voices import stored_voice

log = logging.getLogger(__name__)
_STAGE_OF = {
    ProjectStatus.INITIALIZED: "script",
    ProjectStatus.SCRIPT_GENERATING: "script",
    ProjectStatus.SCRIPT_GENERATED: "assets",
    ProjectStatus.ASSETS_GENERATING: "assets",
    ProjectStatus.ASSETS_GENERATED: "render",
    ProjectStatus.RENDERING: "render",
    ProjectStatus.RENDERED: "thumbnail",
    ProjectStatus.THUMBNAIL_GENERATING: "thumbnail",
    ProjectStatus.THUMBNAIL_GENERATED: "upload",
    ProjectStatus.UPLOADING: "upload",
    ProjectStatus.AWAITING_REVIEW: "upload",
    ProjectStatus.REVIEW_EXPIRED: "upload",
    ProjectStatus.REJECTED: "upload",
}


def project_summary(ctx: Context, project_id: int) -> dict[str, Any]:
    project = ctx.repo.get_project(project_id)
    result: dict[str, Any] = {
        "project_id": project.id,
        "name": project.name,
        "status": project.status.value,
        "language": project.language,
        "video_path": None,
        "thumbnail_path": None,
        "video_id": project.youtube_video_id,
        "video_url": project.video_url,
        "duration": None,
        "error": project.error_info,
        "retrying": retrying_of(ctx, project),
        "review": project.review,
        **formats.summary_of(project.format),
    }
    result["replaced"] = replaced_images(ctx.repo, project_id)
    result["partial"] = bool(result["replaced"])
    result["providers"] = providers_of(ctx, project)
    remade = project_state(ctx, project_id).get("remade")
    result["remade"] = list(remade.values()) if isinstance(remade, dict) else []
    if project.script:
        script = Script.model_validate(project.script)
        paths = piece_paths(ctx, project_id, script)
        result["title"] = approved_title(project.review) or script.metadata.title
        made = credits.segment_credits(paths["images"])
        result["credits"] = credits.footage_credits(made)
        result["fallbacks"] = credits.fallbacks(made)  # searches that found nothing
        for key, path in (("video_path", paths["video"]), ("thumbnail_path", paths["thumbnail"])):
            result[key] = str(path.resolve()) if path.exists() else None
        video = project_state(ctx, project_id).get("video") or {}
        result["duration"] = video.get("duration")
    return result


def providers_of(ctx: Context, project: Project) -> list[dict[str, Any]]:
    """Per stage, the provider this project's run uses and why (`ytmaker providers`, with the
    project's own voice)."""
    overrides = {}
    with contextlib.suppress(YTMakerError, ValueError):
        overrides["voice"] = voice_choice(ctx.settings, stored_voice(project.voice))
    return registry.explain(ctx.settings, overrides)


def retrying_of(ctx: Context, project: Project) -> dict[str, Any] | None:
    """The retry a running project waits for, if any (from its state file)."""
    idle = (ProjectStatus.INITIALIZED, *PERSON_DECIDES)
    if project.status not in _STAGE_OF or project.status in idle:
        return None
    return retry_pending(project_state(ctx, project.id))


def retry_pending(state: dict[str, Any]) -> dict[str, Any] | None:
    """The stage retry a state file records as pending: stage, attempt (the one that failed),
    max_attempts, retry_in, error."""
    for stage, entry in (state.get("stages") or {}).items():
        if isinstance(entry, dict) and entry.get("status") == "retrying":
            keys = ("attempt", "max_attempts", "retry_in", "error")
            return {"stage": stage, **{key: entry.get(key) for key in keys}}
    return None


def status_text(status: str, retrying: dict[str, Any] | None) -> str:
    """A project's status as the CLI shows it: `SCRIPT_GENERATING, retrying (attempt 2 of 4)`."""
    if not retrying:
        return status
    return f"{status}, {retrying_text(retrying['attempt'] + 1, retrying['max_attempts'])}"


def stage_of(project: Project) -> str:
    """The stage a project is in (or failed in)."""
    if project.status is ProjectStatus.FAILED:
        return (project.error_info or {}).get("stage", "?")
    return "done" if project.status is ProjectStatus.COMPLETED else _STAGE_OF[project.status]


def mark_failed_if_running(
    ctx: Context, project_id: int, reason: str, code: str = "RUN_INTERRUPTED"
) -> None:
    """After a failed or crashed flow run, make sure the project does not look busy."""
    try:
        project = ctx.repo.get_project(project_id)
    except YTMakerError:
        return
    if project.status in (ProjectStatus.FAILED, ProjectStatus.COMPLETED, *PERSON_DECIDES):
        return
    stage = _STAGE_OF.get(project.status, "script")
    fail_project(
        ctx,
        project_id,
        stage,
        YTMakerError(
            f"The run stopped during {stage}: {reason or 'no reason given'}",
            code=code,
            retryable=True,
        ),
    )
