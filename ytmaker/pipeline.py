"""The five stages as plain functions of (context, project id); Prefect tasks call these."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ytmaker import providers
from ytmaker.context import Context
from ytmaker.errors import InputError, MediaError
from ytmaker.models import AssetStatus, AssetType, Project
from ytmaker.providers.base import PublishRequest
from ytmaker.script import Script, validate_script
from ytmaker.stages import run_stage
from ytmaker.state import update_state

DURATION_TOLERANCE = 0.02


def load_script(ctx: Context, project_id: int) -> Script:
    project = ctx.repo.get_project(project_id)
    if not project.script:
        raise InputError(
            f"Project {project_id} has no script yet; run the script stage first.",
            project_id=project_id,
        )
    return Script.model_validate(project.script)


def piece_paths(ctx: Context, project_id: int, script: Script) -> dict[str, Any]:
    """Where each asset of a project lives; one place so stages agree."""
    root = ctx.project_dir(project_id)
    return {
        "audio": [root / "audio" / f"piece_{i:03d}.wav" for i in range(len(script.pieces()))],
        "images": {
            s.index: root / "images" / f"segment_{s.index:03d}.png" for s in script.segments
        },
        "avatar": {role: root / "avatar" / f"{role}.mp4" for role in ("intro", "outro")},
        "video": root / "output" / "video.mp4",
        "thumbnail": root / "output" / "thumbnail.jpg",
        "work": root / "work",
    }


# --- script -----------------------------------------------------------------------------------


def generate_script(ctx: Context, project_id: int) -> dict[str, Any]:
    with run_stage(ctx, project_id, "script") as report:
        project = ctx.repo.get_project(project_id)
        check_content(project)
        report(20, "正在撰寫腳本...")
        script = providers.script_writer(ctx.settings).write(
            project.content, project.language, ctx.settings.rules
        )
        validate_script(script, ctx.settings.rules)
        ctx.repo.update_project(project_id, script=script.model_dump(mode="json"))
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
    return {"segments": [s.index for s in script.segments], "pieces": len(script.pieces())}


def check_content(project: Project) -> None:
    if not project.content or not project.content.strip():
        raise InputError(
            f"Project {project.id} has empty content: give it an article, notes or a topic "
            "(ytmaker project create --content-file FILE).",
            field="content",
            project_id=project.id,
        )


# --- assets -----------------------------------------------------------------------------------


def synthesize_piece(ctx: Context, project_id: int, piece_index: int) -> float:
    """Voice one piece (0 = intro, last = outro); returns its audio length in seconds."""
    script = load_script(ctx, project_id)
    path = piece_paths(ctx, project_id, script)["audio"][piece_index]
    text = script.pieces()[piece_index].text
    with _asset(ctx, project_id, AssetType.AUDIO, piece_index, path):
        seconds = providers.voice(ctx.settings).synthesize(text, script.language, path)
    return seconds


def make_image(ctx: Context, project_id: int, segment_index: int) -> str:
    script = load_script(ctx, project_id)
    path = piece_paths(ctx, project_id, script)["images"][segment_index]
    segment = next(s for s in script.segments if s.index == segment_index)
    with _asset(ctx, project_id, AssetType.IMAGE, segment_index, path):
        providers.image_maker(ctx.settings).make(
            segment.image_description, seed_for(project_id, segment_index), path
        )
    return str(path)


def make_avatar(ctx: Context, project_id: int, role: str) -> str:
    script = load_script(ctx, project_id)
    paths = piece_paths(ctx, project_id, script)
    audio = paths["audio"][0 if role == "intro" else len(script.pieces()) - 1]
    path = paths["avatar"][role]
    kind = AssetType.AVATAR_INTRO if role == "intro" else AssetType.AVATAR_OUTRO
    with _asset(ctx, project_id, kind, None, path):
        providers.avatar_maker(ctx.settings).make(audio, role, path)  # type: ignore[arg-type]
    return str(path)


def seed_for(project_id: int, segment_index: int) -> int:
    digest = hashlib.sha256(f"{project_id}:{segment_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class _asset:
    """Asset row and state-file entry around the making of one file."""

    def __init__(
        self, ctx: Context, project_id: int, kind: AssetType, index: int | None, path: Path
    ) -> None:
        self.ctx, self.project_id, self.kind, self.index, self.path = (
            ctx,
            project_id,
            kind,
            index,
            path,
        )
        self.key = f"{kind.value.lower()}:{'' if index is None else index}".rstrip(":")

    def __enter__(self) -> None:
        self.ctx.repo.save_asset(
            self.project_id, self.kind, self.index, status=AssetStatus.PENDING, path=str(self.path)
        )

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        from ytmaker.stages import error_info

        error = None if exc is None else error_info(exc, "assets")
        status = AssetStatus.COMPLETED if exc is None else AssetStatus.FAILED
        self.ctx.repo.save_asset(
            self.project_id, self.kind, self.index, status=status, path=str(self.path), error=error
        )
        update_state(
            self.ctx.project_dir(self.project_id),
            {"assets": {self.key: {"status": status.value.lower(), "path": str(self.path)}}},
        )


def record_durations(ctx: Context, project_id: int, seconds: list[float]) -> Script:
    """Store each piece's realised length in the script; render and checks use them."""
    script = load_script(ctx, project_id)
    for piece, length in zip(script.pieces(), seconds, strict=True):
        piece.audio_duration = round(length, 3)
    ctx.repo.update_project(project_id, script=script.model_dump(mode="json"))
    update_state(
        ctx.project_dir(project_id),
        {"script": {"realised_duration": round(script.realised_duration(), 3)}},
    )
    return script


# --- render, thumbnail, upload ----------------------------------------------------------------


def render(ctx: Context, project_id: int) -> dict[str, Any]:
    from ytmaker.media.render import RenderPiece, RenderSettings, render_video

    with run_stage(ctx, project_id, "render") as report:
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
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
        with _asset(ctx, project_id, AssetType.FINAL_VIDEO, None, paths["video"]):
            info = render_video(
                pieces,
                paths["video"],
                paths["work"],
                RenderSettings(preset=ctx.settings.x264_preset),
                on_progress=lambda f: report(f * 99, f"影片合成中 {f:.0%}"),
                language=script.language,
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


def thumbnail(ctx: Context, project_id: int) -> str:
    from ytmaker.media.thumbnail import make_thumbnail

    with run_stage(ctx, project_id, "thumbnail") as report:
        script = load_script(ctx, project_id)
        paths = piece_paths(ctx, project_id, script)
        report(30, "正在繪製縮圖...")
        with _asset(ctx, project_id, AssetType.THUMBNAIL, None, paths["thumbnail"]):
            make_thumbnail(
                paths["images"][script.segments[0].index], script.metadata.title, paths["thumbnail"]
            )
    return str(paths["thumbnail"])


def upload(ctx: Context, project_id: int) -> dict[str, Any]:
    with run_stage(ctx, project_id, "upload") as report:
        project = ctx.repo.get_project(project_id)
        script = Script.model_validate(project.script)
        paths = piece_paths(ctx, project_id, script)
        request = publish_request(project, script, ctx.settings.default_privacy)
        report(10, "正在上傳影片...")
        published = providers.publisher(ctx.settings).publish(
            paths["video"], paths["thumbnail"], request
        )
        ctx.repo.update_project(
            project_id, youtube_video_id=published.video_id, video_url=published.video_url
        )
        update_state(
            ctx.project_dir(project_id),
            {"upload": {"video_id": published.video_id, "video_url": published.video_url}},
        )
    return {"video_id": published.video_id, "video_url": published.video_url}


def publish_request(project: Project, script: Script, default_privacy: str) -> PublishRequest:
    settings = project.youtube_settings or {}
    return PublishRequest(
        title=script.metadata.title[:100] or project.name[:100],
        description=script.metadata.description,
        tags=list(settings.get("tags") or script.metadata.tags),
        language=project.language,
        privacy=settings.get("privacy", default_privacy),
        publish_at=settings.get("publish_at"),
    )
