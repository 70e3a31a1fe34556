"""Stage 5: publish exactly once, with the metadata made acceptable to YouTube."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ytmaker import credits, formats, quota, review
from ytmaker.bookkeeping import run_stage
from ytmaker.context import Context
from ytmaker.layout import piece_paths
from ytmaker.models import Project
from ytmaker.pipeline.records import timed_call
from ytmaker.pipeline.thumbnail import ensure_title
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.youtube import (
    DESCRIPTION_MAX_BYTES,
    clean_description,
    clean_tags,
    clean_title,
)
from ytmaker.script import Script
from ytmaker.state import update_state


def run(ctx: Context, project_id: int) -> dict[str, Any]:
    """Publish exactly once: a recorded video_id is never uploaded again, and an interrupted
    upload continues its saved session instead of starting over."""
    with run_stage(ctx, project_id, "upload") as report:
        project = ctx.repo.get_project(project_id)
        if project.youtube_video_id:
            report(99, f"影片已上傳（{project.youtube_video_id}），不重複上傳")
            return {"video_id": project.youtube_video_id, "video_url": project.video_url}
        script = Script.model_validate(project.script)
        paths = piece_paths(ctx, project_id, script)
        request = publish_request(project, script, ctx.settings.default_privacy)
        request = review.edited(request, project.review)  # as a person approved it
        if ensure_title(ctx, project_id, script, request.title):
            report(1, f"縮圖已依核准的標題重新繪製：{request.title}")
        if ctx.settings.credits == "description":
            request.description = with_credits(request.description, paths["images"])
        request.description = formats.with_hashtag(
            request.description, project.format, ctx.settings.shorts_hashtag
        )
        report(1, "正在上傳影片...")
        publisher = ctx.providers.publisher(
            on_progress=lambda done, total: report(done / max(total, 1) * 95, "上傳中"),
            on_session=lambda uri: _save_session(ctx, project_id, uri),
            on_call=quota.youtube_meter(ctx, project_id),
        )
        if publisher.metered_service == "youtube":
            quota.ensure_upload_fits(ctx, resuming=bool(project.upload_session_uri))
        thumbnail = paths["thumbnail"] if formats.custom_thumbnail(project.format) else None
        with timed_call(ctx, project_id, "upload", "upload", publisher):
            published = publisher.publish(
                paths["video"], thumbnail, request, resume_uri=project.upload_session_uri
            )
        ctx.repo.update_project(
            project_id,
            youtube_video_id=published.video_id,
            video_url=published.video_url,
            upload_session_uri=None,
        )
        update_state(
            ctx.project_dir(project_id),
            {
                "upload": {
                    "video_id": published.video_id,
                    "video_url": published.video_url,
                    "session_saved": False,
                }
            },
        )
    return {"video_id": published.video_id, "video_url": published.video_url}


def with_credits(description: str, images: dict[int, Path]) -> str:
    """The description with the stock footage's authors and pages after it (the credits are
    kept whole: the description is shortened first when both do not fit)."""
    block = credits.description_block(credits.footage_credits(credits.segment_credits(images)))
    if not block:
        return description
    room = max(DESCRIPTION_MAX_BYTES - len(block.encode("utf-8")) - 2, 0)
    head = description.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip()
    return clean_description(head + "\n\n" + block)


def _save_session(ctx: Context, project_id: int, uri: str) -> None:
    ctx.repo.update_project(project_id, upload_session_uri=uri)
    update_state(ctx.project_dir(project_id), {"upload": {"session_saved": True}})


def publish_request(project: Project, script: Script, default_privacy: str) -> PublishRequest:
    """What is published, made acceptable to YouTube here for every publisher: the title and
    tags come from the LLM too, and YouTube refuses '<' and '>' (the local channel kept them)."""
    settings = project.youtube_settings or {}
    title = clean_title(script.metadata.title)
    return PublishRequest(
        title=clean_title(project.name) if title == "Untitled" else title,
        description=clean_description(script.metadata.description),
        tags=clean_tags(list(settings.get("tags") or script.metadata.tags)),
        language=project.language,
        privacy=settings.get("privacy", default_privacy),
        publish_at=settings.get("publish_at"),
    )
