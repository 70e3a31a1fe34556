"""The five stages as plain functions of (context, project id); Prefect tasks call these."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ytmaker import formats, providers, quota
from ytmaker.assets import AssetRecord, fingerprint
from ytmaker.context import Context
from ytmaker.errors import InputError, MediaError, YTMakerError
from ytmaker.layout import load_script, piece_paths
from ytmaker.media.visual import VisualConfig
from ytmaker.models import AssetType, Project
from ytmaker.project_input import check_content as check_content_text
from ytmaker.project_input import check_name
from ytmaker.prompts import check_template
from ytmaker.providers.base import PublishRequest
from ytmaker.providers.youtube import clean_description, clean_tags, clean_title
from ytmaker.script import Script, validate_script
from ytmaker.stages import fail_project, run_stage
from ytmaker.state import update_state

DURATION_TOLERANCE = 0.02


# --- script -----------------------------------------------------------------------------------


def generate_script(ctx: Context, project_id: int) -> dict[str, Any]:
    check_stored_project(ctx, project_id)
    with run_stage(ctx, project_id, "script") as report:
        project = ctx.repo.get_project(project_id)
        prompt = project.prompt_template or formats.default_prompt(project.format)
        rules = formats.rules_for(ctx.settings, project.format)
        writer = providers.script_writer(ctx.settings, prompt)
        source = fingerprint(
            project.content,
            project.language,
            rules.model_dump(),
            type(writer).__name__,
            *([prompt] if prompt else []),
        )
        if project.script and project.script_fingerprint == source:
            script = Script.model_validate(project.script)
            report(90, "沿用先前生成的腳本（內容未變更）")
            return plan_of(script)
        report(20, "正在撰寫腳本...")
        with formats.named_rules(rules, project.format):
            script = writer.write(project.content, project.language, rules)
            quota.meter(ctx, writer, "generateContent", project_id)
            validate_script(script, rules)
        ctx.repo.update_project(
            project_id, script=script.model_dump(mode="json"), script_fingerprint=source
        )
        update_state(
            ctx.project_dir(project_id),
            {
                "script": {
                    "title": script.metadata.title,
                    "segments": len(script.segments),
                    "planned_duration": script.total_duration,
                }
            },
        )
        report(90, f"腳本共 {len(script.segments)} 段，預計 {script.total_duration:.0f} 秒")
    return plan_of(script)


def plan_of(script: Script) -> dict[str, Any]:
    """What the asset stage maps over."""
    return {"segments": [s.index for s in script.segments], "pieces": len(script.pieces())}


def check_stored_project(ctx: Context, project_id: int) -> None:
    """Before a script is paid for: the stored text, name, prompt and look (a bad visual_config
    was only found at render, after the script and pictures were paid for). A failure marks the
    project FAILED naming the field, except a published one, which stays as it is."""
    project = ctx.repo.get_project(project_id)
    try:
        check_content(project)
        visual_config(ctx, project_id)
    except YTMakerError as exc:
        if not project.youtube_video_id:
            fail_project(ctx, project_id, "script", exc)
        raise


def check_content(project: Project) -> None:
    """A stored project is checked again: rows may come from older versions or other tools."""
    if not project.content or not project.content.strip():
        raise InputError(
            f"Project {project.id} has empty content: give it an article, notes or a topic "
            "(ytmaker project create --content-file FILE).",
            field="content",
            project_id=project.id,
        )
    checks = [("content", check_content_text), ("name", check_name)]
    if project.prompt_template is not None:
        checks.append(("prompt_template", check_template))
    for field, check in checks:
        try:
            check(getattr(project, field))
        except ValueError as exc:
            raise InputError(
                f"Project {project.id}: {field} {exc}.", field=field, project_id=project.id
            ) from None


# --- render, thumbnail, upload ----------------------------------------------------------------


def render(ctx: Context, project_id: int) -> dict[str, Any]:
    from ytmaker.media.render import RenderPiece, RenderSettings, render_video

    with run_stage(ctx, project_id, "render") as report:
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
        frame = formats.frame_of(ctx.repo.get_project(project_id).format)
        pieces = [
            RenderPiece(
                text=piece.text,
                audio=paths["audio"][i],
                duration=piece.spoken_duration,
                image=paths["images"].get(getattr(piece, "index", -1)),
            )
            for i, piece in enumerate(script.pieces())
        ]
        pieces[0].video, pieces[-1].video = paths["avatar"]["intro"], paths["avatar"]["outro"]
        with AssetRecord(ctx, project_id, AssetType.FINAL_VIDEO, None, paths["video"]):
            info = render_video(
                pieces,
                paths["video"],
                paths["work"],
                RenderSettings(
                    width=frame.width, height=frame.height, preset=ctx.settings.x264_preset
                ),
                on_progress=lambda f: report(f * 99, f"影片合成中 {f:.0%}"),
                language=script.language,
                visual=visual_config(ctx, project_id),
            )
            check_duration(info.duration, script.realised_duration())
        result = info.to_dict()
        update_state(ctx.project_dir(project_id), {"video": result})
    return result


def check_duration(actual: float, expected: float) -> None:
    """The video must be as long as the narration it carries (within 2%)."""
    if expected <= 0 or abs(actual - expected) / expected > DURATION_TOLERANCE:
        raise MediaError(
            f"The rendered video lasts {actual:.2f} s but the script needs {expected:.2f} s "
            f"(more than {DURATION_TOLERANCE:.0%} apart).",
            code="RENDER_DURATION_MISMATCH",
            duration=actual,
            expected=expected,
        )


def visual_config(ctx: Context, project_id: int) -> VisualConfig:
    """The project's look; relative logo/music/font paths resolve against its folder, then the
    working directory."""
    project = ctx.repo.get_project(project_id)
    return VisualConfig.from_dict(
        project.visual_config, base_dirs=[ctx.project_dir(project_id), Path.cwd()]
    )


def thumbnail(ctx: Context, project_id: int) -> str:
    from ytmaker.media.thumbnail import make_thumbnail

    with run_stage(ctx, project_id, "thumbnail") as report:
        project = ctx.repo.get_project(project_id)
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
        report(30, "正在繪製縮圖...")
        with AssetRecord(ctx, project_id, AssetType.THUMBNAIL, None, paths["thumbnail"]):
            make_thumbnail(
                paths["images"][script.segments[0].index],
                script.metadata.title,
                paths["thumbnail"],
                subtitle=(project.youtube_settings or {}).get("channel"),
                visual=visual_config(ctx, project_id),
            )
    return str(paths["thumbnail"])


def upload(ctx: Context, project_id: int) -> dict[str, Any]:
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
        request.description = formats.with_hashtag(
            request.description, project.format, ctx.settings.shorts_hashtag
        )
        report(1, "正在上傳影片...")
        publisher = providers.publisher(
            ctx.settings,
            on_progress=lambda done, total: report(done / max(total, 1) * 95, "上傳中"),
            on_session=lambda uri: _save_session(ctx, project_id, uri),
            on_call=quota.youtube_meter(ctx, project_id),
        )
        if getattr(publisher, "metered_service", None) == "youtube":
            quota.ensure_upload_fits(ctx, resuming=bool(project.upload_session_uri))
        thumbnail = paths["thumbnail"] if formats.custom_thumbnail(project.format) else None
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
